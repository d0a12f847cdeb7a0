"""What the contract refuses: values the schema forbids, or that the systems downstream cannot
hold (S3's and DynamoDB's limits, datetimes past what Python converts, control characters)."""

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from labelgraph_contract import DetectedLabel, InvalidEvent, decode_event

from .conftest import make_event


def decoded(document: dict[str, Any]):
    return decode_event(json.dumps(document).encode())


def rejected(document: dict[str, Any]) -> str:
    with pytest.raises(InvalidEvent) as caught:
        decoded(document)
    return caught.value.reason


def label(payload: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = payload["labels"][0]
    return item


def with_capture(payload: dict[str, Any], captured_at: object) -> dict[str, Any]:
    """The payload captured at `captured_at`, its event_ts and capture_date agreeing with it
    as far as a lenient reading goes: so only the rule under test can reject it."""
    moment = _lenient_datetime.validate_python(captured_at)
    return {**payload, "captured_at": captured_at, "event_ts": int(moment.timestamp()),
            "capture_date": moment.date().isoformat()}


_lenient_datetime = TypeAdapter(datetime)


@pytest.mark.parametrize(("where", "value"), [
    ("confidence", "99.5"),
    ("confidence", True),
    ("event_ts", "event_ts as text"),
    ("event_ts", True),
    ("schema_version", True),
])
def test_values_of_the_wrong_json_type_are_rejected(payload, where, value):
    target = label(payload) if where == "confidence" else payload
    target[where] = str(payload["event_ts"]) if value == "event_ts as text" else value
    assert where in rejected(payload)


@pytest.mark.parametrize("captured_at", [
    1480577405,
    "1480577405",
    "2016-11-30 23:30:05-08:00",
    "2016-11-30T23:30:05-0800",
    "2016-11-30T23:30-08:00",
    "2016-11-30t23:30:05-08:00",
    "2016-11-30T23:30:05.1234567-08:00",
])
def test_capture_times_not_in_rfc_3339_form_are_rejected(payload, captured_at):
    assert "captured_at" in rejected(with_capture(payload, captured_at))


def test_capture_date_must_be_in_the_schemas_form(payload):
    payload["capture_date"] = payload["capture_date"].replace("-", "")
    assert "capture_date" in rejected(payload)


def test_an_integral_number_is_an_integer_as_the_schema_says(payload):
    payload["event_ts"] = float(payload["event_ts"])
    assert decoded(payload).event_ts == int(payload["event_ts"])


def test_a_bounding_box_ratio_given_as_text_is_rejected(payload):
    label(payload)["instances"] = [{"confidence": 90.0, "bounding_box": {
        "width": "0.5", "height": 0.5, "left": 0.1, "top": 0.1}}]
    assert "width" in rejected(payload)


def test_object_key_is_bounded_in_utf8_bytes_as_s3_bounds_it(payload):
    payload["object_key"] = "k" * 1024
    assert decoded(payload).object_key == "k" * 1024
    payload["object_key"] = "é" * 513  # 513 characters, 1,026 bytes
    assert "1024 bytes" in rejected(payload)
    payload["object_key"] = "k" * 300_000
    assert "object_key" in rejected(payload)


@pytest.mark.parametrize("field", ["camera", "detector", "model_version", "image_etag"])
def test_names_are_at_most_256_characters(payload, field):
    payload[field] = "n" * 256
    decoded(payload)
    payload[field] = "n" * 257
    assert field in rejected(payload)


def test_label_names_and_parents_are_at_most_256_characters(payload):
    label(payload)["name"] = "é" * 256  # 512 bytes: within DynamoDB's 1,024 for a key
    label(payload)["parents"] = ["p" * 256]
    decoded(payload)
    label(payload)["name"] = "L" * 257
    assert "labels.0.name" in rejected(payload)
    label(payload)["name"] = "Person"
    label(payload)["parents"] = ["p" * 257]
    assert "labels.0.parents.0" in rejected(payload)


@pytest.mark.parametrize("name", ["Per\nson", "Person\x1b[31m", "\x00", "Pers\x85on", "Car\x7f"])
@pytest.mark.parametrize("field", ["label", "parent", "camera", "object_key", "detector"])
def test_control_characters_are_rejected_in_every_name(payload, name, field):
    if field == "label":
        label(payload)["name"] = name
    elif field == "parent":
        label(payload)["parents"] = [name]
    else:
        payload[field] = name
    rejected(payload)


def test_unicode_names_without_control_characters_are_fine(payload):
    label(payload)["name"] = "Zebra crossing 🦓 Ünïcödé"
    payload["camera"] = "entrée"
    assert decoded(payload).labels[0].name == "Zebra crossing 🦓 Ünïcödé"


@pytest.mark.parametrize("bucket", ["ab", "b" * 64, "my bucket", "buck\net"])
def test_bucket_names_follow_s3(payload, bucket):
    payload["bucket"] = bucket
    assert "bucket" in rejected(payload)


def test_event_id_is_a_lowercase_uuid(payload):
    for bad in ["e1", payload["event_id"].upper(), payload["event_id"] + "0"]:
        payload_copy = {**payload, "event_id": bad}
        assert "event_id" in rejected(payload_copy)


@pytest.mark.parametrize(("field", "count"), [("labels", 1001), ("parents", 33),
                                               ("instances", 101)])
def test_lists_are_bounded(payload, field, count):
    instance = {"confidence": 90.0,
                "bounding_box": {"width": 0.1, "height": 0.1, "left": 0.1, "top": 0.1}}
    if field == "labels":
        payload["labels"] = [{"name": f"L{i}", "confidence": 50.0} for i in range(count)]
    elif field == "parents":
        label(payload)["parents"] = [f"P{i}" for i in range(count)]
    else:
        label(payload)["instances"] = [instance] * count
    assert field in rejected(payload)
    if field == "labels":
        payload["labels"] = payload["labels"][:1000]
    else:
        label(payload)[field] = label(payload)[field][:count - 1]
    decoded(payload)


@pytest.mark.parametrize("captured_at", [
    "9999-12-31T23:59:59-08:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59+00:00",
    "1999-12-31T23:59:59+00:00",
    "2101-01-01T00:00:00+00:00",
    "2016-11-30T23:30:05+15:00",
])
def test_capture_times_outside_2000_to_2100_are_rejected(payload, captured_at):
    assert "captured_at" in rejected(with_capture(payload, captured_at))


@pytest.mark.parametrize("captured_at", ["2000-01-01T00:00:00+14:00",
                                         "2100-12-31T23:59:59.999999-14:00",
                                         "2016-02-29T12:00:00Z"])
def test_capture_times_at_the_edges_of_the_range_are_accepted(payload, captured_at):
    assert decoded(with_capture(payload, captured_at)).captured_at == datetime.fromisoformat(
        captured_at)


@pytest.mark.parametrize("labeled_at", ["9999-12-31T23:59:59+00:00", "1969-12-31T23:59:59Z",
                                        "0001-01-01T00:00:00+14:00"])
def test_labelling_times_outside_2000_to_2100_are_rejected(payload, labeled_at):
    payload["labeled_at"] = labeled_at
    assert "labeled_at" in rejected(payload)


def test_duplicate_label_names_keep_the_most_confident_entry_with_its_parents(payload):
    box = {"width": 0.1, "height": 0.1, "left": 0.1, "top": 0.1}
    payload["labels"] = [
        {"name": "Car", "confidence": 40.0, "parents": ["Toy"]},
        {"name": "Person", "confidence": 80.0},
        {"name": "Car", "confidence": 95.0, "parents": ["Vehicle"],
         "instances": [{"confidence": 95.0, "bounding_box": box}]},
        {"name": "Car", "confidence": 60.0},
    ]
    event = decoded(payload)
    assert [(item.name, item.confidence, item.parents, len(item.instances))
            for item in event.labels] == [("Car", 95.0, ["Vehicle"], 1),
                                          ("Person", 80.0, [], 0)]


def test_duplicates_are_normalised_however_the_event_is_built():
    event = make_event(labels=[DetectedLabel(name="Car", confidence=40.0),
                               DetectedLabel(name="Car", confidence=95.0)])
    assert [(item.name, item.confidence) for item in event.labels] == [("Car", 95.0)]
