import json
from datetime import UTC, datetime

import pytest

from labelgraph_contract import (
    MAX_EVENT_BYTES,
    MAX_RECORD_BYTES,
    BoundingBox,
    DetectedLabel,
    EventTooLarge,
    ImageLabeled,
    InvalidEvent,
    LabelInstance,
    captured_fields,
    decode_event,
    encode_event,
    labelling_event_id,
)

from .conftest import make_event


def test_event_id_is_deterministic_and_depends_on_every_identity_field():
    identity = dict(bucket="b", object_key="k", image_etag="e", detector="d", model_version="1")
    assert labelling_event_id(**identity) == labelling_event_id(**identity)
    ids = {labelling_event_id(**{**identity, name: "other"}) for name in identity}
    assert len(ids) == len(identity)
    assert labelling_event_id(**identity) not in ids


def test_event_id_differs_whenever_a_parameter_shaping_the_labels_differs():
    identity = dict(bucket="b", object_key="k", image_etag="e", detector="d", model_version="1")
    settings = {"max_labels": "10", "min_confidence": "0"}
    ids = {labelling_event_id(**identity, parameters=parameters) for parameters in (
        settings, {**settings, "max_labels": "20"}, {**settings, "min_confidence": "50"},
        {**settings, "workers": "2"}, {})}
    assert len(ids) == 5


def test_event_id_ignores_the_order_parameters_come_in():
    identity = dict(bucket="b", object_key="k", image_etag="e", detector="d", model_version="1")
    assert labelling_event_id(**identity, parameters={"a": "1", "b": "2"}) == \
        labelling_event_id(**identity, parameters={"b": "2", "a": "1"})


def test_event_id_keeps_keys_and_values_apart():
    identity = dict(bucket="b", object_key="k", image_etag="e", detector="d", model_version="1")
    assert labelling_event_id(**identity, parameters={"a": "b=c"}) != \
        labelling_event_id(**identity, parameters={"a=b": "c"})


def test_event_id_without_parameters_is_the_id_events_had_before_them():
    # Events already on the topic and in the table keep their ids.
    identity = dict(bucket="b", object_key="k", image_etag="e", detector="d", model_version="1")
    assert labelling_event_id(**identity) == "bec85a0b-557a-5372-bc21-3a08a01e55d6"


def test_capture_fields_use_the_cameras_local_date_not_utc():
    event = make_event()
    # 23:30 in UTC-8 is already the next day in UTC.
    assert event.capture_date.isoformat() == "2016-11-30"
    assert event.event_ts == int(datetime(2016, 12, 1, 7, 30, 5, tzinfo=UTC).timestamp())


def test_round_trip_through_the_wire_keeps_every_field():
    event = make_event()
    record = encode_event(event)
    assert record.key == event.object_key.encode()
    assert dict(record.headers)["schema-version"] == b"1"
    assert json.loads(record.value)["captured_at"] == "2016-11-30T23:30:05-08:00"
    assert decode_event(record.value) == event


def test_unknown_fields_from_newer_producers_are_ignored():
    payload = json.loads(encode_event(make_event()).value)
    payload["added_later"] = {"anything": 1}
    assert decode_event(json.dumps(payload).encode()) == make_event()


@pytest.mark.parametrize(
    ("value", "reason_part"),
    [
        (b"not json", "Invalid JSON"),
        (b"{}", "event_id: Field required"),
        (None, "tombstone"),
    ],
)
def test_bad_messages_raise_invalid_event_with_a_reason(value, reason_part):
    with pytest.raises(InvalidEvent) as caught:
        decode_event(value)
    assert reason_part in caught.value.reason


def test_inconsistent_times_are_rejected():
    payload = json.loads(encode_event(make_event()).value)
    payload["event_ts"] += 3600
    with pytest.raises(InvalidEvent, match="event_ts must equal captured_at"):
        decode_event(json.dumps(payload).encode())


def test_naive_capture_time_is_rejected():
    with pytest.raises(ValueError, match="UTC offset"):
        captured_fields(datetime(2016, 11, 30, 23, 30))


def test_confidence_outside_0_100_is_rejected():
    payload = json.loads(encode_event(make_event()).value)
    payload["labels"][0]["confidence"] = 100.5
    with pytest.raises(InvalidEvent, match="labels.0.confidence"):
        decode_event(json.dumps(payload).encode())


def _oversized_event() -> ImageLabeled:
    # 1,000 labels of 100 boxes each: valid field by field, about 9 MB of JSON.
    box = LabelInstance(bounding_box=BoundingBox(width=0.123456, height=0.123456,
                                                 left=0.123456, top=0.123456),
                        confidence=55.123456)
    labels = [DetectedLabel(name=f"label {n}", confidence=50.0, instances=[box] * 100)
              for n in range(1000)]
    return make_event(labels=labels)


def test_an_event_over_the_contracts_bytes_is_never_encoded():
    with pytest.raises(EventTooLarge, match="over the contract's 1,000,000"):
        encode_event(_oversized_event())


def test_a_message_over_the_contracts_bytes_is_invalid_without_parsing_it():
    value = _oversized_event().model_dump_json().encode()
    assert len(value) > MAX_EVENT_BYTES
    with pytest.raises(InvalidEvent, match="over the contract's"):
        decode_event(value)


def test_the_largest_record_fits_kafkas_default_limits():
    # Kafka's topic max.message.bytes and producer max_request_size defaults.
    assert MAX_EVENT_BYTES + 1024 + 4096 <= MAX_RECORD_BYTES <= min(1_048_588, 1_048_576)
