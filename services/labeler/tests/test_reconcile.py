"""reconcile through the real stack: images whose notifications were lost (the queue died
with the stack) are labelled by exactly the detectors that lack them, as the command and
at a labeler's start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from labelgraph_labeler.config import RECONCILE_MARK_KEY, RECONCILE_PROGRESS_KEY, LabelerSettings

pytestmark = pytest.mark.stack

TWO = "aws-rekognition,hog=opencv-hog"


def camera_day(days_ago: int) -> date:
    """A day on the cameras' clock, as their keys' day folders name it."""
    return datetime.now(ZoneInfo(LabelerSettings().camera_timezone)).date() - timedelta(
        days=days_ago)


def stamp(days_ago: int, hour: int = 7) -> str:
    return f"{camera_day(days_ago):%Y%m%d}-{hour:02}1530"


def lose_notifications(lane: Any) -> None:
    """What a stack that died leaves: the objects stored, their queue messages gone."""
    sqs = lane.client("sqs")
    url = sqs.get_queue_url(QueueName=lane.queue)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=0).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert lane.queue_depth() == 0


def reconcile_command(*arguments: str) -> tuple[dict[str, Any], subprocess.CompletedProcess[bytes]]:
    done = subprocess.run([sys.executable, "-m", "labelgraph_labeler", "reconcile", *arguments],
                          env=dict(os.environ), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.splitlines()[-1]), done


def test_reconcile_labels_lost_images_with_only_the_detectors_that_lack_them(lane_for,
                                                                            in_process):
    lane = lane_for(TWO)
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Person", 91)]})
    half = [lane.key(stamp=stamp(0)), lane.key(camera="porch", stamp=stamp(1))]
    lost = [lane.key(stamp=stamp(0, hour=9)), lane.key(camera="porch", stamp=stamp(1, 9))]
    old = lane.key(stamp=stamp(10))
    # Rekognition's labeler took the first uploads; hog's never got them.
    with in_process(LABELER_DETECTORS="aws-rekognition", LABELER_RECONCILE_DAYS=0):
        for key in half:
            lane.put(key)
        lane.wait_for(lambda: all(lane.rows(key) for key in half))
    for key in [*lost, old]:
        lane.put(key)
    lane.put("alarms/readme.txt", b"not an image")
    lose_notifications(lane)

    summary, done = reconcile_command()

    for key in half + lost:
        assert lane.rows(key) and lane.rows(key, "hog"), key
        # Each image was asked of Rekognition once: the half-labelled ones not again.
        assert lane.stub_calls(key) == 1, key
    assert not lane.rows(old) and not lane.rows(old, "hog")  # before the last 2 days
    assert (summary["days"], summary["images"], summary["already_labeled"]) == (2, 4, 0)
    assert summary["labeled"] == {"aws-rekognition": 2, "hog": 4}
    assert summary["skipped"] == {"key_layout": 1}
    assert (summary["refused"], summary["transient"], summary["days_failed"]) == ({}, {}, 0)
    assert b"2/2 days" in done.stderr  # the progress bar
    events = lane.events(lambda got: len(got) >= 8)
    assert sorted((e.object_key, e.detector) for e in events) == sorted(
        [(key, "aws-rekognition") for key in half + lost] + [(key, "hog") for key in half + lost])

    again, _ = reconcile_command()

    assert (again["images"], again["already_labeled"], again["labeled"]) == (4, 4, {})

    every_day, _ = reconcile_command("--all")

    assert every_day["labeled"] == {"aws-rekognition": 1, "hog": 1}
    assert (every_day["days"], every_day["already_labeled"]) == (3, 4)
    assert lane.rows(old) and lane.rows(old, "hog")
    assert sum(lane.stub_calls(key) for key in [*half, *lost, old]) == 5
    # A finished walk leaves no place to resume from: the next starts at the top.
    progress = lane.client("s3").get_object(Bucket=lane.bucket, Key=RECONCILE_PROGRESS_KEY)
    assert json.loads(progress["Body"].read())["settled"] is None


def test_an_interrupted_walk_of_every_day_resumes_where_its_limit_stopped_it(lane):
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Car", 70)]})
    keys = [lane.key(stamp=f"201611{day:02}-071530") for day in (1, 2, 3)]
    for key in keys:
        lane.put(key)
    lose_notifications(lane)

    first, _ = reconcile_command("--all", "--limit", "1")
    second, _ = reconcile_command("--all")

    assert (first["labeled"], first["limit_reached"]) == ({"aws-rekognition": 1}, True)
    assert second["resumed_after"] == keys[0].rsplit("/", 2)[0] + "/"
    assert (second["days"], second["labeled"]) == (2, {"aws-rekognition": 2})
    assert all(lane.rows(key) and lane.stub_calls(key) == 1 for key in keys)


def test_a_labeler_reconciles_the_recent_days_at_start(lane, in_process):
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Person", 88)]})
    old = lane.key(stamp=stamp(5))
    lost = [lane.key(stamp=stamp(0)), lane.key(stamp=stamp(1))]
    for key in [old, *lost]:
        lane.put(key)
    lose_notifications(lane)

    with in_process():
        lane.wait_for(lambda: all(lane.rows(key) for key in lost), timeout=60)
        # Uploads go on beside it, through the queue as ever.
        live = lane.key(stamp=stamp(0, hour=11))
        lane.put(live)
        lane.wait_for(lambda: lane.rows(live), timeout=60)

    # The old day comes first in key order, so the walk would have labelled it by now.
    assert not lane.rows(old)
    assert [lane.stub_calls(key) for key in lost] == [1, 1]


def test_a_labeler_started_after_a_longer_stop_reconciles_back_to_the_last_start(lane,
                                                                                 in_process):
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Person", 88)]})
    s3 = lane.client("s3")
    with in_process():  # a first start, which marks the day its reconcile began
        lane.wait_for(lambda: _mark(s3, lane.bucket), timeout=60)
    marked = _mark(s3, lane.bucket)
    assert marked["began"] == camera_day(0).isoformat()
    # As if that start were six days ago, and the stack died with the uploads since.
    s3.put_object(Bucket=lane.bucket, Key=RECONCILE_MARK_KEY,
                  Body=json.dumps({**marked, "began": camera_day(6).isoformat()}).encode())
    lost = [lane.key(stamp=stamp(days_ago)) for days_ago in (6, 4)]
    before = lane.key(stamp=stamp(7))
    for key in [before, *lost]:
        lane.put(key)
    lose_notifications(lane)

    with in_process():
        lane.wait_for(lambda: all(lane.rows(key) for key in lost), timeout=60)
        lane.wait_for(lambda: _mark(s3, lane.bucket)["began"] == camera_day(0).isoformat(),
                      timeout=60)

    assert not lane.rows(before)  # before the day the last start began


def _mark(s3: Any, bucket: str) -> dict[str, Any]:
    try:
        body = s3.get_object(Bucket=bucket, Key=RECONCILE_MARK_KEY)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return {}
    return dict(json.loads(body))
