import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from labelgraph_contract import (
    MAX_EVENT_BYTES,
    BoundingBox,
    DetectedLabel,
    ImageLabeled,
    LabelInstance,
    encode_event,
)
from labelgraph_labeler.adapters.sqs import Upload, uploads
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN
from labelgraph_labeler.domain import (
    BadTimestampError,
    Detection,
    KeyLayout,
    KeyLayoutError,
    StoredImage,
    backoff_delay,
    labelling_event,
)
from labelgraph_labeler.rows import event_from_rows, label_rows

LAYOUT = KeyLayout.from_settings(DEFAULT_KEY_PATTERN, "America/Los_Angeles")
KEY = "alarms/frontdoor/2016-11-05/07/sub/img_20161105-071530.jpg"


def stored(key: str = KEY, **metadata: str) -> StoredImage:
    return StoredImage("security-alarms", key, "etag1", datetime(2020, 1, 1, tzinfo=UTC),
                       dict(metadata))


def test_camera_is_the_second_segment():
    assert LAYOUT.camera(KEY) == "frontdoor"


@pytest.mark.parametrize("key", ["frontdoor.jpg", "alarms/frontdoor/nodate/x.jpg",
                                 "alarms/frontdoor/2016-11-05/07/img_20161105-071530.txt"])
def test_keys_off_the_layout_are_refused_with_the_key_in_the_message(key):
    with pytest.raises(KeyLayoutError, match="does not match") as refused:
        LAYOUT.camera(key)
    assert repr(key) in str(refused.value)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        # Summer: PDT is UTC-7; winter: PST is UTC-8. A pytz zone given as tzinfo= would
        # have produced LMT -7:53 for both.
        ("20160705-071530", "2016-07-05T07:15:30-07:00"),
        ("20161205-071530", "2016-12-05T07:15:30-08:00"),
    ],
)
def test_file_name_stamp_is_read_on_the_cameras_clock(stamp, expected):
    key = f"alarms/frontdoor/2016-07-05/07/img_{stamp}.jpg"
    assert LAYOUT.captured_at(stored(key)).isoformat() == expected


def test_metadata_timestamp_wins_over_the_file_name():
    assert LAYOUT.captured_at(stored(camera_timestamp="1478355330")).isoformat() == (
        "2016-11-05T07:15:30-07:00")
    assert LAYOUT.captured_at(stored(camera_timestamp="2016-11-05T09:00:00")).isoformat() == (
        "2016-11-05T09:00:00-07:00")


def test_last_modified_is_the_last_resort():
    layout = KeyLayout.from_settings(r"^(?P<root>[^/]+)/(?P<camera>[^/]+)/", "UTC")
    assert layout.captured_at(stored("a/cam/x.jpg")).isoformat() == "2020-01-01T00:00:00+00:00"


def test_pattern_without_camera_group_is_refused():
    with pytest.raises(ValueError, match="camera"):
        KeyLayout.from_settings(r"^(?P<root>.*)$", "UTC")


def test_rows_carry_the_original_attributes_and_rebuild_the_event():
    box = LabelInstance(bounding_box=BoundingBox(left=0.1, top=0.2, width=0.3, height=0.4),
                        confidence=98.5)
    detection = Detection([DetectedLabel(name="Person", confidence=99.25, parents=["Human"]),
                           DetectedLabel(name="Dog", confidence=80.0, instances=[box])], "3.0")
    event = labelling_event(stored(), detection, camera="frontdoor",
                            captured_at=LAYOUT.captured_at(stored()), detector="aws-rekognition",
                            parameters={}, labeled_at=datetime(2026, 1, 1, tzinfo=UTC))
    rows = label_rows(event)
    row = rows[0]
    assert row["object_key"] == KEY and row["label"] == "Person"
    assert row["confidence"] == Decimal("99.25")
    assert row["event_ts"] == event.event_ts and row["capture_date"] == "2016-11-05"
    assert row["event_id"] == event.event_id and json.loads(row["instances_json"]) == []
    # What the backfill republishes: the very event, boxes and all, from the rows alone.
    assert event_from_rows(reversed(rows)) == event


def test_notification_keys_are_url_decoded_and_test_events_ignored():
    body = {"Records": [{"eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "b"},
                                "object": {"key": "alarms/front+door/a%2Bb.jpg"}}}]}
    assert uploads(json.dumps(body)) == [Upload("b", "alarms/front door/a+b.jpg")]
    assert uploads(json.dumps({"Event": "s3:TestEvent"})) == []


def test_an_unreadable_camera_timestamp_is_refused_with_a_reason():
    with pytest.raises(BadTimestampError, match="yesterday") as refused:
        LAYOUT.captured_at(stored(camera_timestamp="yesterday"))
    assert refused.value.reason == "bad_timestamp"


def test_events_list_labels_most_confident_first():
    labels = [DetectedLabel(name=n, confidence=c) for n, c in (("B", 50), ("A", 50), ("C", 90))]
    event = labelling_event(stored(), Detection(labels, "3.0"), camera="frontdoor",
                            captured_at=LAYOUT.captured_at(stored()), detector="d",
                            parameters={}, labeled_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert [label.name for label in event.labels] == ["C", "A", "B"]


def test_backoff_doubles_up_to_the_cap_scaled_by_the_jitter_draw():
    assert [backoff_delay(n, 0.5, 3, 1.0) for n in range(4)] == [0.5, 1.0, 2.0, 3]
    assert backoff_delay(2, 0.5, 3, 0.25) == 0.5 and backoff_delay(5, 0.5, 3, 0.0) == 0


def test_a_labelling_with_other_detector_parameters_gets_another_event_id():
    def labelled(parameters: dict[str, str]) -> str:
        return labelling_event(stored(), Detection([], "3.0"), camera="frontdoor",
                               captured_at=LAYOUT.captured_at(stored()), detector="d",
                               parameters=parameters,
                               labeled_at=datetime(2026, 1, 1, tzinfo=UTC)).event_id
    assert labelled({"max_labels": "10"}) != labelled({"max_labels": "20"})
    assert labelled({"max_labels": "10"}) == labelled({"max_labels": "10"})


def test_a_labelling_over_the_contracts_bytes_keeps_its_most_confident_labels_that_fit():
    box = LabelInstance(bounding_box=BoundingBox(width=0.1234, height=0.1234, left=0.1234,
                                                 top=0.1234), confidence=50.5)
    labels = [DetectedLabel(name=f"Thing {n:04}", confidence=90 - n / 100, instances=[box] * 10)
              for n in range(1000)]

    def labelled() -> ImageLabeled:
        return labelling_event(stored(), Detection(labels, "3.0"), camera="frontdoor",
                               captured_at=datetime(2016, 11, 5, tzinfo=UTC),
                               detector="aws-rekognition", parameters={},
                               labeled_at=datetime(2026, 1, 1, tzinfo=UTC))

    event = labelled()
    kept = len(event.labels)
    size = len(encode_event(event).value)
    assert size <= MAX_EVENT_BYTES
    assert [label.name for label in event.labels] == [f"Thing {n:04}" for n in range(kept)]
    # As many as fit: one label more would not.
    one_more = event.model_copy(update={"labels": labels[:kept + 1]})
    assert len(one_more.model_dump_json().encode()) > MAX_EVENT_BYTES
    assert labelled() == event  # the same labelling always trims the same way
    assert event_from_rows(label_rows(event)) == event  # the table rebuilds what was sent
