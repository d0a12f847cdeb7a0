from datetime import UTC, datetime, timedelta, timezone

from labelgraph_contract import DetectedLabel, ImageLabeled, captured_fields
from labelgraph_graph_writer.domain import image_row


def test_time_tree_values_are_the_cameras_local_clock():
    captured = datetime(2016, 11, 30, 23, 30, 5, tzinfo=timezone(timedelta(hours=-8)))
    event = ImageLabeled(
        event_id="e1", bucket="b", object_key="k", image_etag="x", camera="frontdoor",
        detector="aws-rekognition", model_version="3.0",
        labeled_at=datetime(2026, 1, 1, tzinfo=UTC),
        labels=[DetectedLabel(name="Person", confidence=98.5)],
        **captured_fields(captured),  # type: ignore[arg-type]
    )
    row = image_row(event)
    assert (row["year"], row["month"], row["day"], row["hour"]) == (2016, 11, 30, 23)
    assert row["iso_date"] == "2016-11-30"
    assert row["isodate"] == "2016-11-30T23:30:05-08:00"
    assert row["timestamp"] == event.event_ts
    assert row["labels"] == [{"name": "Person", "confidence": 98.5}]
