"""The labeler's queue loop through the real stack: moto (S3, SQS, DynamoDB), the
Rekognition stub and Tansu, one private lane per test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from labelgraph_labeler.adapters.sqs import Upload, uploads
from labelgraph_labeler.handlers import Labeler
from labelgraph_labeler.rows import NO_LABELS

pytestmark = pytest.mark.stack

PERSON_BOX = {"Width": 0.2, "Height": 0.5, "Left": 0.4, "Top": 0.3}


def test_an_upload_becomes_rows_and_one_event_with_the_same_identity(lane, running_labeler):
    key = lane.key(name="front door+porch")  # S3 URL-encodes the space and the plus
    lane.teach({"match": {"key": key},
                "labels": [lane.label("Plant", 77.5),
                           lane.label("Person", 99.1, ("Human",), PERSON_BOX)]})
    before = lane.metric("labeler_images_labeled_total", detector="aws-rekognition")
    lane.put(key)

    rows = lane.wait_for(lambda: lane.rows(key))
    [event] = lane.events(lambda events: len(events) >= 1)

    assert sorted((row["label"], row["confidence"]) for row in rows) == [
        ("Person", Decimal("99.1")), ("Plant", Decimal("77.5"))]
    assert {row["event_ts"] for row in rows} == {Decimal(1478355330)}
    assert {row["capture_date"] for row in rows} == {"2016-11-05"}
    assert {row["event_id"] for row in rows} == {event.event_id}
    assert {(row["detector"], row["model_version"]) for row in rows} == {("aws-rekognition",
                                                                          "3.0")}
    assert event.object_key == key and event.camera == "frontdoor"
    # File-name stamp on the camera's clock: November 5th 2016 was still PDT (UTC-7).
    assert event.captured_at.isoformat() == "2016-11-05T07:15:30-07:00"
    assert [(x.name, x.parents) for x in event.labels] == [("Person", ["Human"]), ("Plant", [])]
    assert event.labels[0].instances[0].bounding_box.left == 0.4
    lane.wait_for(lambda: lane.queue_depth() == 0)
    assert lane.stub_calls(key) == 1
    assert lane.metric("labeler_images_labeled_total", detector="aws-rekognition") == before + 1


def test_camera_timestamp_metadata_wins_and_no_labels_leave_a_marker_row(lane, running_labeler):
    key = lane.key(camera="driveway")
    lane.teach({"match": {"key": key}, "labels": []})
    lane.put(key, camera_timestamp="1467727200")  # 2016-07-05T07:00:00-07:00

    [row] = lane.wait_for(lambda: lane.rows(key))
    [event] = lane.events(lambda events: len(events) >= 1)

    assert row["label"] == NO_LABELS and "confidence" not in row
    assert event.labels == [] and event.event_id == row["event_id"]
    assert event.captured_at.isoformat() == "2016-07-05T07:00:00-07:00"


def test_excluded_cameras_are_acknowledged_and_counted_not_labelled(lane, monkeypatch, in_process):
    monkeypatch.setenv("LABELER_EXCLUDED_CAMERAS", "garage, crawlspace")
    garage, kept = lane.key(camera="garage"), lane.key(camera="porch")
    before = lane.metric("labeler_images_excluded_total")
    with in_process():
        lane.put(garage)
        lane.put(kept)
        lane.wait_for(lambda: lane.rows(kept))
        lane.wait_for(lambda: lane.queue_depth() == 0)
    assert lane.rows(garage) == [] and lane.stub_calls(garage) == 0
    assert lane.metric("labeler_images_excluded_total") == before + 1
    assert lane.dead_letters() == []


def test_refused_images_are_dead_lettered_with_their_reason_and_counted(lane, running_labeler):
    off_layout = "alarms/frontdoor/notes.txt"
    not_image = lane.key()
    too_large = lane.key()
    bad_stamp = lane.key()
    lane.teach({"match": {"key": too_large}, "error": "ImageTooLargeException"})
    before = {reason: lane.failures(reason)
              for reason in ("key_layout", "not_image", "too_large", "bad_timestamp")}

    lane.put(off_layout, b"just text")
    lane.put(not_image, b"not a jpeg at all")  # the stub reads the magic bytes
    lane.put(too_large)
    lane.put(bad_stamp, camera_timestamp="yesterday")

    lane.wait_for(lambda: lane.queue_depth() == 0 and lane.queue_depth(f"{lane.queue}-dlq") == 4)
    reasons = {
        uploads(m["Body"])[0].key:
            m["MessageAttributes"]["failure-reason"]["StringValue"]
        for m in lane.dead_letters()
    }
    assert reasons == {"alarms/frontdoor/notes.txt": "key_layout", not_image: "not_image",
                       too_large: "too_large", bad_stamp: "bad_timestamp"}
    assert lane.all_rows() == []
    # Permanent: asked once, never retried; an upload with no image header never (issue 21).
    assert lane.stub_calls(not_image) == 0 and lane.stub_calls(too_large) == 1
    for reason, count in before.items():
        assert lane.failures(reason) == count + 1


def test_a_missing_object_is_dead_lettered_as_missing(lane, in_process):
    key = lane.key()
    lane.put(key)
    lane.client("s3").delete_object(Bucket=lane.bucket, Key=key)
    with in_process():
        lane.wait_for(lambda: lane.queue_depth(f"{lane.queue}-dlq") == 1)
    [dead] = lane.dead_letters()
    assert dead["MessageAttributes"]["failure-reason"]["StringValue"] == "missing"
    assert lane.rows(key) == [] and lane.stub_calls(key) == 0


def test_throttling_is_retried_with_backoff_until_it_passes(lane, running_labeler):
    key = lane.key()
    lane.teach({"match": {"key": key}, "error": "ProvisionedThroughputExceededException",
                "times": 3},
               {"match": {"key": key}, "labels": [lane.label("Cat", 90)]})
    lane.put(key)
    lane.wait_for(lambda: lane.rows(key))
    lane.wait_for(lambda: lane.queue_depth() == 0)
    assert lane.stub_calls(key) == 4
    assert [row["label"] for row in lane.rows(key)] == ["Cat"]


def test_errors_outlasting_the_retries_leave_the_message_for_redelivery(lane, monkeypatch,
                                                                      in_process):
    monkeypatch.setenv("LABELER_REKOGNITION_MAX_ATTEMPTS", "2")
    key = lane.key()
    lane.teach({"match": {"key": key}, "error": "InternalServerError", "times": 2},
               {"match": {"key": key}, "labels": [lane.label("Dog", 80)]})
    before = lane.metric("labeler_images_retried_total")
    with in_process():
        lane.put(key)
        # Redelivered after the queue's visibility timeout (3 s here), then labelled.
        lane.wait_for(lambda: lane.rows(key), timeout=20)
        lane.wait_for(lambda: lane.queue_depth() == 0)
    assert lane.stub_calls(key) == 3
    assert lane.metric("labeler_images_retried_total") == before + 1
    events = lane.events(lambda events: len(events) >= 1)
    assert [e.object_key for e in events] == [key]


def test_a_message_failing_every_time_is_dead_lettered_with_why_on_its_last_receive(
        lane, in_process):
    key = lane.key()
    lane.teach({"match": {"key": key}, "error": "ThrottlingException"})
    before = lane.failures("retries_exhausted", detector="")
    with in_process(LABELER_REKOGNITION_MAX_ATTEMPTS=1):
        lane.put(key)
        # The lane's redrive policy allows 3 receives: the third failure dead-letters it.
        lane.wait_for(lambda: lane.queue_depth(f"{lane.queue}-dlq") == 1, timeout=30)
    [dead] = lane.dead_letters()
    assert uploads(dead["Body"]) == [Upload(lane.bucket, key)]
    attributes = dead["MessageAttributes"]
    assert attributes["failure-reason"]["StringValue"] == "retries_exhausted"
    assert "ThrottlingException" in attributes["failure-detail"]["StringValue"]
    assert lane.failures("retries_exhausted", detector="") == before + 1
    assert lane.stub_calls(key) == 3
    assert lane.rows(key) == []


def test_sigterm_like_stop_finishes_images_in_hand(lane, in_process):
    keys = [lane.key() for _ in range(12)]
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Plant", 70)]})
    with in_process(LABELER_CONCURRENCY=4):
        for key in keys:
            lane.put(key, lane.jpeg)
        lane.wait_for(lambda: any(lane.rows(k) for k in keys))
    # Stopped as soon as one was done: every image it had taken is finished, the rest
    # are back on the queue; nothing is half done (rows without an event).
    labelled = [k for k in keys if lane.rows(k)]
    events = lane.events(lambda events: len(events) >= len(labelled))
    assert {e.object_key for e in events} == set(labelled)
    assert lane.queue_depth() == len(keys) - len(labelled)


def test_a_first_delivery_writes_without_reading_and_a_redelivery_drops_stale_rows(
        lane, in_process):
    fresh, again = lane.key(), lane.key()
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Person", 97)]})
    # An earlier try of `again` wrote a label this labelling no longer gives, then died
    # before deleting its message: the message comes back on its second receive.
    lane.client_resource().Table(lane.table).put_item(Item={"object_key": again,
                                                            "label": "Ghost"})
    lane.put(again)
    sqs = lane.client("sqs")
    url = sqs.get_queue_url(QueueName=lane.queue)["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]  # 3 s unseen
    queried: list[str] = []

    def watch(labeler: Labeler) -> None:
        labeler.detectors[0].table._client.meta.events.register(
            "provide-client-params.dynamodb.Query",
            lambda params, **_: queried.append(params["ExpressionAttributeValues"][":key"]["S"]))

    with in_process(built=watch):
        lane.put(fresh)
        lane.wait_for(lambda: lane.rows(fresh) and lane.queue_depth() == 0, timeout=20)
    assert [row["label"] for row in lane.rows(again)] == ["Person"]
    assert [row["label"] for row in lane.rows(fresh)] == ["Person"]
    assert queried == [again]  # the read only where an earlier try may have left rows
