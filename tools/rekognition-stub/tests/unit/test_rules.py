"""Unit tests of the rules document: validation, matching, counted rules."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from rekognition_stub.rules import Answer, RuleBook, RulesDocument, Subject
from rekognition_stub.rules_format import (
    RulesError,
    document_to_json,
    parse_document,
    parse_rules,
)

DIGEST = hashlib.sha256(b"some image").hexdigest()

TREE = {"Name": "Tree", "Confidence": 88.1, "Parents": [{"Name": "Plant"}]}
PERSON = {
    "Name": "Person",
    "Confidence": 97.5,
    "Instances": [
        {"BoundingBox": {"Width": 0.2, "Height": 0.5, "Left": 0.1, "Top": 0.3}, "Confidence": 96}
    ],
}
CAR = {"Name": "Car", "Confidence": 91.0}
DOG = {"Name": "Dog", "Confidence": 80.0}

EXAMPLE: dict[str, Any] = {
    "model_version": "3.0",
    "default": {"labels": [TREE]},
    "rules": [
        {"match": {"key": "exact/object/key.jpg"}, "labels": [CAR]},
        {"match": {"key_glob": "*/frontdoor/*"}, "labels": [PERSON]},
        {"match": {"sha256": DIGEST.upper()}, "labels": [DOG]},
        {"match": {"key_glob": "broken/*"}, "error": "InvalidImageFormatException"},
        {"match": {"key_glob": "*"}, "error": "ProvisionedThroughputExceededException", "times": 3},
    ],
}


def s3(key: str, bucket: str = "photos", sha256: str | None = None) -> Subject:
    return Subject(bucket=bucket, key=key, sha256=sha256)


def names(answer: Answer | None) -> list[str]:
    assert answer is not None
    return [label["Name"] for label in answer.labels]


def test_labels_are_completed_to_the_response_shape() -> None:
    document = parse_document(EXAMPLE)

    tree = document.default[0] if document.default else None
    assert tree == {
        "Name": "Tree",
        "Confidence": 88.1,
        "Instances": [],
        "Parents": [{"Name": "Plant"}],
        "Aliases": [],
        "Categories": [],
    }


def test_an_instance_without_confidence_takes_its_labels() -> None:
    box = {"Width": 1, "Height": 1, "Left": 0, "Top": 0}
    cat = {"Name": "Cat", "Confidence": 70, "Instances": [{"BoundingBox": box}]}
    raw = {"rules": [{"labels": [cat]}]}

    (rule,) = parse_document(raw).rules

    assert rule.answer.labels[0]["Instances"][0]["Confidence"] == 70.0


def test_json_form_reads_back_unchanged() -> None:
    document = parse_document(EXAMPLE)

    assert parse_document(document_to_json(document)) == document


def test_sha256_is_kept_lower_case() -> None:
    assert document_to_json(parse_document(EXAMPLE))["rules"][2]["match"] == {"sha256": DIGEST}


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ([], "document must be a JSON object"),
        ({"rulez": []}, "unknown field(s) ['rulez']"),
        ({"rules": {}}, "rules must be a JSON list"),
        ({"rules": [{"match": {}}]}, "rules[0] needs exactly one of 'labels' or 'error'"),
        ({"rules": [{"labels": [], "error": "ThrottlingException"}]}, "exactly one of"),
        ({"rules": [{"error": "NoSuchThing"}]}, "rules[0].error 'NoSuchThing' is not"),
        ({"rules": [{"labels": [], "times": -1}]}, "rules[0].times must be a whole number"),
        ({"rules": [{"labels": [], "times": True}]}, "rules[0].times must be a whole number"),
        ({"rules": [{"match": {"key-glob": "*"}, "labels": []}]}, "unknown field(s) ['key-glob']"),
        ({"rules": [{"match": {"sha256": "abc"}, "labels": []}]}, "sha256 must be 64 hex digits"),
        ({"rules": [{"labels": [{"Name": "Tree"}]}]}, "labels[0] is missing ['Confidence']"),
        (
            {"rules": [{"labels": [{"Name": "Tree", "Confidence": 101}]}]},
            "rules[0].labels[0].Confidence must be a number from 0 to 100",
        ),
        (
            {"default": {"labels": [{"Name": "", "Confidence": 50}]}},
            "default.labels[0].Name must be a non-empty string",
        ),
        (
            {"rules": [{"labels": [{**PERSON, "Instances": [{"BoundingBox": {"Width": 2}}]}]}]},
            "BoundingBox is missing ['Height', 'Left', 'Top']",
        ),
        ({"rules": [{"labels": [], "message": "hi"}]}, "message only goes with 'error'"),
        ({"default": [TREE]}, "default must be a JSON object"),
    ],
)
def test_bad_documents_are_refused_naming_the_field(raw: Any, complaint: str) -> None:
    with pytest.raises(RulesError) as refused:
        parse_document(raw)

    assert complaint in str(refused.value)


def test_first_matching_rule_wins() -> None:
    book = RuleBook(parse_document(EXAMPLE))

    assert names(book.answer(s3("exact/object/key.jpg"))) == ["Car"]
    assert names(book.answer(s3("cam1/frontdoor/a.jpg"))) == ["Person"]


def test_key_conditions_never_match_inline_bytes() -> None:
    book = RuleBook(parse_document({"default": {"labels": [TREE]}, "rules": [
        {"match": {"key_glob": "*"}, "labels": [CAR]},
    ]}))

    assert names(book.answer(Subject(bucket=None, key=None, sha256=DIGEST))) == ["Tree"]


def test_a_rule_without_conditions_matches_everything() -> None:
    book = RuleBook(parse_document({"rules": [{"labels": [CAR]}]}))

    assert names(book.answer(Subject(bucket=None, key=None, sha256=DIGEST))) == ["Car"]
    assert names(book.answer(s3("any/key.png"))) == ["Car"]


def test_bucket_condition() -> None:
    book = RuleBook(parse_document({"rules": [{"match": {"bucket": "other"}, "labels": [CAR]}]}))

    assert names(book.answer(s3("k.png", bucket="photos"))) == []
    assert names(book.answer(s3("k.png", bucket="other"))) == ["Car"]


def test_an_undecided_digest_rule_asks_for_the_digest() -> None:
    book = RuleBook(parse_document(EXAMPLE))

    assert book.answer(s3("cam1/backyard/a.jpg")) is None
    assert names(book.answer(s3("cam1/backyard/a.jpg", sha256=DIGEST))) == ["Dog"]


def test_a_decisive_rule_before_a_digest_rule_needs_no_digest() -> None:
    book = RuleBook(parse_document(EXAMPLE))

    assert names(book.answer(s3("cam1/frontdoor/a.jpg"))) == ["Person"]


def test_counted_rule_applies_that_many_times_then_is_skipped() -> None:
    book = RuleBook(parse_document({"default": {"labels": [TREE]}, "rules": [
        {"match": {"key_glob": "*"}, "error": "ProvisionedThroughputExceededException", "times": 2},
    ]}))

    errors = [book.answer(s3("a.png")) for _ in range(3)]

    assert [answer.error if answer else None for answer in errors] == [
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceededException",
        None,
    ]
    assert book.document().rules[0].times == 0


def test_reset_restores_the_starting_document_and_its_counts() -> None:
    start = parse_document({"rules": [{"error": "ThrottlingException", "times": 1}]})
    book = RuleBook(start)
    book.answer(s3("a.png"))
    book.replace(RulesDocument())

    book.reset()

    assert book.document() == start


def test_rules_can_go_before_or_after_the_current_ones() -> None:
    book = RuleBook(parse_document({"rules": [{"match": {"key_glob": "*"}, "labels": [TREE]}]}))

    book.add(parse_rules([{"match": {"key": "a.png"}, "labels": [CAR]}]), front=False)
    assert names(book.answer(s3("a.png"))) == ["Tree"]

    book.add(parse_rules([{"match": {"key": "a.png"}, "labels": [DOG]}]), front=True)
    assert names(book.answer(s3("a.png"))) == ["Dog"]


def test_no_rule_and_no_default_means_no_labels() -> None:
    assert names(RuleBook(RulesDocument()).answer(s3("a.png"))) == []
