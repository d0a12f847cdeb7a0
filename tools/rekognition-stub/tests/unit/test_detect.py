"""Unit tests of DetectLabels semantics, with an in-memory image store."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from rekognition_stub.detect import (
    DetectLabelsRequest,
    Limits,
    ObjectTooLarge,
    ObjectUnreadable,
    S3Image,
    detect_labels,
    filter_labels,
    parse_request,
)
from rekognition_stub.errors import RekognitionError
from rekognition_stub.rules import Label, RuleBook
from rekognition_stub.rules_format import parse_document

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
CAT = {"Name": "Cat", "Confidence": 90}
BOX = {"Width": 0.5, "Height": 0.5, "Left": 0.1, "Top": 0.1}

LABELS: tuple[Label, ...] = parse_document({"default": {"labels": [
    {"Name": "Tree", "Confidence": 60.0},
    {"Name": "Person", "Confidence": 99.0, "Instances": [
        {"BoundingBox": BOX, "Confidence": 99.0},
        {"BoundingBox": BOX, "Confidence": 58.0},
    ]},
    {"Name": "Car", "Confidence": 75.0},
    {"Name": "Shadow", "Confidence": 40.0},
]}}).default or ()


class FakeImageStore:
    """S3 objects in a dict."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def read(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        if f"{bucket}/{key}" not in self.objects:
            raise ObjectUnreadable(key)
        image = self.objects[f"{bucket}/{key}"]
        if len(image) > max_bytes:
            raise ObjectTooLarge(key)
        return image


def s3_request(key: str, **filters: Any) -> DetectLabelsRequest:
    return DetectLabelsRequest(S3Image("photos", key), **filters)


def detect(
    request: DetectLabelsRequest,
    rules: dict[str, Any],
    objects: dict[str, bytes] | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    book = RuleBook(parse_document(rules))
    return detect_labels(request, book, FakeImageStore(objects or {}), limits or Limits())


def error_code(request: DetectLabelsRequest, rules: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(RekognitionError) as raised:
        detect(request, rules, **kwargs)
    return raised.value.code


def test_parse_s3_request() -> None:
    body = {"Image": {"S3Object": {"Bucket": "b", "Name": "k.jpg"}}, "MaxLabels": 10,
            "MinConfidence": 0}

    assert parse_request(body) == DetectLabelsRequest(S3Image("b", "k.jpg"), 10, 0.0)


def test_parse_inline_request_defaults_min_confidence_to_55() -> None:
    body = {"Image": {"Bytes": base64.b64encode(PNG).decode()}}

    assert parse_request(body) == DetectLabelsRequest(PNG, None, 55.0)


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"Image": {}},
        {"Image": {"S3Object": {"Bucket": "b", "Name": "k"}, "Bytes": "AAAA"}},
        {"Image": {"S3Object": {"Bucket": "b"}}},
        {"Image": {"Bytes": "not base64!"}},
        {"Image": {"Bytes": ""}},
        {"Image": {"Bytes": "AAAA"}, "MaxLabels": -1},
        {"Image": {"Bytes": "AAAA"}, "MaxLabels": 2.5},
        {"Image": {"Bytes": "AAAA"}, "MinConfidence": 100.5},
        {"Image": {"Bytes": "AAAA"}, "MinConfidence": -1},
    ],
)
def test_bad_parameters_are_invalid_parameter_exceptions(body: Any) -> None:
    with pytest.raises(RekognitionError) as raised:
        parse_request(body)

    assert raised.value.code == "InvalidParameterException"


def test_min_confidence_drops_labels_and_instances_below_it() -> None:
    kept = filter_labels(LABELS, 59.0, None)

    assert [label["Name"] for label in kept] == ["Person", "Car", "Tree"]
    assert [item["Confidence"] for item in kept[0]["Instances"]] == [99.0]


def test_max_labels_keeps_the_most_confident() -> None:
    assert [label["Name"] for label in filter_labels(LABELS, 0, 2)] == ["Person", "Car"]
    assert filter_labels(LABELS, 0, 0) == []


def test_filtering_leaves_the_rules_untouched() -> None:
    filter_labels(LABELS, 99.5, None)

    assert len(LABELS[1]["Instances"]) == 2


def test_labels_for_an_s3_image() -> None:
    rules = {"model_version": "3.1", "default": {"labels": [{"Name": "Tree", "Confidence": 88}]}}

    response = detect(s3_request("a.png", min_confidence=0), rules, {"photos/a.png": PNG})

    assert response["LabelModelVersion"] == "3.1"
    assert [label["Name"] for label in response["Labels"]] == ["Tree"]


def test_digest_rule_is_decided_after_reading_the_image() -> None:
    digest = hashlib.sha256(JPEG).hexdigest()
    rules = {"rules": [{"match": {"sha256": digest}, "labels": [CAT]}]}

    response = detect(s3_request("a.jpg"), rules, {"photos/a.jpg": JPEG})

    assert [label["Name"] for label in response["Labels"]] == ["Cat"]


def test_digest_rule_matches_inline_bytes() -> None:
    digest = hashlib.sha256(JPEG).hexdigest()
    rules = {"rules": [{"match": {"sha256": digest}, "labels": [CAT]}]}

    response = detect(DetectLabelsRequest(JPEG), rules)

    assert [label["Name"] for label in response["Labels"]] == ["Cat"]


def test_missing_object() -> None:
    assert error_code(s3_request("nope.png"), {}) == "InvalidS3ObjectException"


def test_not_an_image() -> None:
    objects = {"photos/a.txt": b"hello"}

    assert error_code(s3_request("a.txt"), {}, objects=objects) == "InvalidImageFormatException"


def test_too_large_from_s3() -> None:
    objects = {"photos/big.png": PNG}
    limits = Limits(s3_bytes=len(PNG) - 1)

    code = error_code(s3_request("big.png"), {}, objects=objects, limits=limits)

    assert code == "ImageTooLargeException"


def test_too_large_inline() -> None:
    limits = Limits(inline_bytes=len(PNG) - 1)

    assert error_code(DetectLabelsRequest(PNG), {}, limits=limits) == "ImageTooLargeException"


def test_forced_error_comes_before_reading_the_image() -> None:
    rules = {"rules": [{"error": "ProvisionedThroughputExceededException"}]}

    assert error_code(s3_request("missing.png"), rules) == "ProvisionedThroughputExceededException"


def test_forced_error_keeps_its_message() -> None:
    rules = {"rules": [{"error": "AccessDeniedException", "message": "no entry"}]}

    with pytest.raises(RekognitionError) as raised:
        detect(s3_request("a.png"), rules)

    assert raised.value.body() == {"__type": "AccessDeniedException", "Message": "no entry"}
