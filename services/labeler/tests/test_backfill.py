"""backfill and relabel through the real stack: the table rebuilds the topic exactly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from labelgraph_contract import (
    MAX_EVENT_BYTES,
    DetectedLabel,
    ImageLabeled,
    encode_event,
    label_table_name,
)
from labelgraph_devstack.testing import boxed_labels, labelled_event
from labelgraph_labeler.bootstrap import build_labeler
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.domain import Detection, StoredImage, labelling_event
from labelgraph_labeler.handlers import BackfillSummary, backfill
from labelgraph_labeler.rows import Checkpoint, label_rows

pytestmark = pytest.mark.stack


# The test data is from 2016: reading on to today would only add empty days.
UNTIL = date(2016, 12, 31)


def run_backfill(full: bool = False, **overrides: object) -> BackfillSummary:
    async def go() -> BackfillSummary:
        labeler = build_labeler(LabelerSettings(**overrides))
        await labeler.publisher.start()
        try:
            summaries = await backfill(labeler, full=full, batch_size=3, until=UNTIL)
            return summaries["aws-rekognition"]
        finally:
            await labeler.publisher.stop()

    return asyncio.run(go())


def test_backfill_rebuilds_the_topic_exactly_and_resumes_from_its_checkpoint(
        lane, in_process, new_topic):
    lane.teach({"match": {"key_glob": "*/empty_*"}, "labels": []},
               {"match": {"key_glob": "*"},
                "labels": [lane.label("Plant", 80.25, ("Nature",)), lane.label("Car", 51)]})
    keys = [lane.key(stamp="20161105-071530", name="a"), lane.key(stamp="20161105-071530",
                                                                  name="empty"),
            lane.key(stamp="20161106-235959"), lane.key(stamp="20161109-000000")]
    with in_process():
        for key in keys:
            lane.put(key)
        live = lane.events(lambda events: len(events) == len(keys))

    replay = new_topic()
    summary = run_backfill(LABEL_TOPIC=replay)
    rebuilt = lane.events(lambda events: len(events) == len(keys), topic=replay)
    # The same events, field for field (labeled_at included): the table is the truth.
    assert sorted(rebuilt, key=lambda e: e.object_key) == sorted(live, key=lambda e: e.object_key)
    assert summary.events == 4
    last = next(e for e in live if e.object_key == keys[-1])
    assert summary.checkpoint == Checkpoint(last.capture_date, last.event_ts)

    # Nothing new: nothing re-emitted. New rows: only they are published.
    assert run_backfill(LABEL_TOPIC=replay).events == 0
    later = lane.key(stamp="20161110-120000")
    with in_process():
        lane.put(later)
        lane.wait_for(lambda: lane.rows(later))
    assert run_backfill(LABEL_TOPIC=replay).events == 1
    assert run_backfill(LABEL_TOPIC=replay, full=True).events == 5


def test_the_table_and_its_rebuild_agree_with_the_live_event_on_awkward_labels(
        lane, in_process, new_topic):
    """A label literally named like the old marker, and a label the detector names twice."""
    marker_like, twice = lane.key(name="marker"), lane.key(name="twice")
    lane.teach({"match": {"key": marker_like},
                "labels": [lane.label("#no-labels", 88), lane.label("Plant", 70)]},
               {"match": {"key": twice},
                "labels": [lane.label("Person", 40), lane.label("Person", 95, ("Human",)),
                           lane.label("Car", 60)]})
    with in_process():
        lane.put(marker_like)
        lane.put(twice)
        live = lane.events(lambda events: len(events) == 2)

    # One rule for duplicate names: the most confident entry wins, in the table too.
    assert sorted((r["label"], r["confidence"]) for r in lane.rows(twice)) == [
        ("Car", Decimal("60")), ("Person", Decimal("95"))]
    assert sorted(r["label"] for r in lane.rows(marker_like)) == ["#no-labels", "Plant"]
    replay = new_topic()
    assert run_backfill(LABEL_TOPIC=replay).events == 2
    rebuilt = lane.events(lambda events: len(events) == 2, topic=replay)
    assert sorted(rebuilt, key=lambda e: e.object_key) == sorted(live, key=lambda e: e.object_key)
    by_key = {e.object_key: [(x.name, x.confidence) for x in e.labels] for e in rebuilt}
    assert by_key == {marker_like: [("#no-labels", 88), ("Plant", 70)],
                      twice: [("Person", 95), ("Car", 60)]}


def test_a_killed_backfill_loses_nothing_and_re_emits_at_most_one_batch(lane, new_topic,
                                                                         tmp_path):
    events = write_rows(lane, images=600)
    replay = new_topic()
    env = {**os.environ, "LABEL_TOPIC": replay, "LABELER_BACKFILL_BATCH_SIZE": "10"}
    command = [sys.executable, "-m", "labelgraph_labeler", "backfill", "--until", str(UNTIL)]
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        lane.wait_for(lambda: checkpoint_of(lane) is not None, timeout=60, interval=0.01)
        assert first.poll() is None, "the backfill finished before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait()
    resumed_from = checkpoint_of(lane)
    second = subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)

    published = lane.events(lambda got: {e.object_key for e in got} >= set(events),
                            topic=replay, timeout=60)
    copies = Counter(e.event_id for e in published)
    assert set(copies) == {e.event_id for e in events.values()}
    assert sum(copies.values()) - len(copies) <= 10  # the one batch in flight at the kill
    resumed = json.loads(second.stdout.splitlines()[-1])["by_detector"]["aws-rekognition"]
    assert resumed["events"] < len(events)
    assert resumed_from is not None


def test_rows_that_make_no_valid_event_are_named_and_skipped_not_a_stop(lane, new_topic):
    events = write_rows(lane, images=6)
    broken = lane.key(name="broken")
    table = lane.client_resource().Table(lane.table)
    [row] = label_rows(next(e for e in events.values() if e.labels))
    table.put_item(Item={**row, "object_key": broken, "confidence": Decimal("150")})
    replay = new_topic()

    summary = run_backfill(LABEL_TOPIC=replay)

    assert (summary.events, summary.refused) == (6, 1)
    published = lane.events(lambda got: len(got) >= 6, topic=replay)
    assert {e.object_key for e in published} == set(events)


def test_a_rebuild_with_a_poisoned_row_restores_every_other_image_of_every_detector(
        lane_for, new_topic):
    # A labelling written before events were bounded: its rows make a 1.3 MB event, which
    # no topic takes. It is the first image of the history, so whatever stops on it stops
    # the rebuild of everything.
    lane = lane_for("aws-rekognition,hog=opencv-hog")
    poisoned = lane.key(stamp="20161031-000000", name="poisoned")
    write_event_rows(lane, oversized_event(lane, poisoned))
    events = [*write_rows(lane, images=6).values(),
              *write_rows(lane, images=4, detector="hog").values()]
    replay = new_topic()
    env = {**os.environ, "LABEL_TOPIC": replay, "LABELER_BACKFILL_BATCH_SIZE": "2"}

    done = subprocess.run([sys.executable, "-m", "labelgraph_labeler", "backfill", "--full",
                           "--until", str(UNTIL)], env=env, capture_output=True, timeout=120)

    published = lane.events(lambda got: len(got) >= len(events), topic=replay)
    assert {(e.object_key, e.detector) for e in published} == {
        (e.object_key, e.detector) for e in events}
    report = json.loads(done.stdout.splitlines()[-1])["by_detector"]
    assert report["aws-rekognition"]["events"] == 6
    assert report["aws-rekognition"]["refused"] == 1
    assert report["aws-rekognition"]["refused_examples"][0]["object_key"] == poisoned
    assert "over the contract's 1,000,000" in report["aws-rekognition"]["refused_examples"][0][
        "why"]
    assert (report["hog"]["events"], report["hog"]["refused"]) == (4, 0)
    assert done.returncode == 1  # said only once everything else was published
    assert b"1 images not published" in done.stderr


def test_relabel_with_a_thousand_labels_keeps_the_table_and_the_topic_in_agreement(lane):
    key = lane.key()
    # 1,000 labels of ten boxes each: about 1.5 MB of JSON, over any Kafka default.
    box = {"Width": 0.123456, "Height": 0.123456, "Left": 0.123456, "Top": 0.123456}
    lane.teach({"match": {"key": key}, "labels": [
        {"Name": f"Thing {n:04}", "Confidence": 99 - n / 20, "Parents": [{"Name": "Object"}],
         "Instances": [{"BoundingBox": box, "Confidence": 99 - n / 20}] * 10}
        for n in range(1000)]})
    lane.put(key)
    env = {**os.environ, "LABELER_MAX_LABELS": "1000"}

    done = subprocess.run([sys.executable, "-m", "labelgraph_labeler", "relabel",
                           f"s3://{lane.bucket}/{key}"], env=env, capture_output=True,
                          timeout=120, check=True)

    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["by_detector"]["aws-rekognition"] == {"labeled": 1, "failed_by_reason": {}}
    [event] = lane.events(lambda events: len(events) >= 1)
    assert len(encode_event(event).value) <= MAX_EVENT_BYTES
    kept = [label.name for label in event.labels]
    assert 10 < len(kept) < 1000
    assert kept == [f"Thing {n:04}" for n in range(len(kept))]  # the most confident ones
    assert sorted(row["label"] for row in lane.rows(key)) == kept
    assert b'"reason": "event_trimmed"' in done.stdout + done.stderr


def oversized_event(lane, key: str) -> ImageLabeled:
    return labelled_event(key, boxed_labels(1000), captured=datetime(2016, 10, 31, tzinfo=UTC))


def write_event_rows(lane, event: ImageLabeled) -> None:
    table = lane.client_resource().Table(label_table_name(lane.table, event.detector))
    with table.batch_writer() as batch:
        for row in label_rows(event):
            batch.put_item(Item=row)


def write_rows(lane, images: int, detector: str = "aws-rekognition") -> dict[str, object]:
    """Rows as the labeler writes them, straight into the detector's table."""
    start = datetime(2016, 11, 1, tzinfo=UTC)
    events = {}
    table = lane.client_resource().Table(label_table_name(lane.table, detector))
    with table.batch_writer() as batch:
        for index in range(images):
            captured = start + timedelta(seconds=1500 * index)
            key = lane.key(stamp=f"{captured:%Y%m%d-%H%M%S}", name=f"i{index}")
            image = StoredImage(lane.bucket, key, uuid.uuid4().hex, captured)
            labels = [DetectedLabel(name="Plant", confidence=60 + index % 40)] if index % 3 else []
            event = labelling_event(image, Detection(labels, "3.0"), camera="frontdoor",
                                    captured_at=captured, detector=detector,
                                    parameters={}, labeled_at=datetime.now(UTC))
            events[key] = event
            for row in label_rows(event):
                batch.put_item(Item=row)
    return events


def checkpoint_of(lane) -> bytes | None:
    try:
        return lane.client("s3").get_object(Bucket=lane.bucket,
                                            Key="status/label_to_graph_checkpoint")["Body"].read()
    except lane.client("s3").exceptions.NoSuchKey:
        return None


def test_relabel_labels_existing_objects_with_progress_and_a_summary(lane):
    good = [lane.key() for _ in range(3)]
    excluded, off_layout = lane.key(camera="garage"), "alarms/readme.txt"
    lane.teach({"match": {"key": good[0]}, "labels": [lane.label("Person", 97)]},
               {"match": {"key_glob": "*"}, "labels": [lane.label("Plant", 70)]})
    for key in [*good, excluded]:
        lane.put(key)
    lane.put(off_layout, b"notes")
    env = {**os.environ, "LABELER_EXCLUDED_CAMERAS": "garage"}

    done = subprocess.run([sys.executable, "-m", "labelgraph_labeler", "relabel",
                           f"s3://{lane.bucket}/alarms/"], env=env, capture_output=True,
                          timeout=120, check=True)

    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["images"] == 5
    assert summary["by_detector"] == {"aws-rekognition": {
        "labeled": 3, "excluded": 1, "failed": 1, "failed_by_reason": {"key_layout": 1}}}
    assert b"5/5 images" in done.stderr  # the progress bar's last state
    assert [row["label"] for row in lane.rows(good[0])] == ["Person"]
    events = lane.events(lambda events: len(events) >= 3)
    assert sorted(e.object_key for e in events) == sorted(good)
