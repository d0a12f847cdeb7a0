"""Several detectors in one labeler, through the real servers: one event and one table of
rows per detector, failures kept to the detector that had them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labelgraph_contract import DetectedLabel
from labelgraph_labeler.bootstrap import DETECTOR_FACTORIES, Wiring, build_labeler
from labelgraph_labeler.config import RECONCILE_MARK_KEY, LabelerSettings
from labelgraph_labeler.domain import Detection, ImageRejected, ImageSource
from labelgraph_labeler.handlers import backfill, relabel

pytestmark = pytest.mark.stack

TWO = "aws-rekognition,local=fake-local"


class FakeLocalDetector:
    """A local model's stand-in: reads the image's bytes and says Person at 60; refuses the
    keys in `refuse`, and fails once (transiently) on the keys in `fail_once`."""

    kind = "fake-local"

    def __init__(self, max_labels: int, refuse: frozenset[str] = frozenset(),
                 fail_once: frozenset[str] = frozenset()) -> None:
        self._max_labels, self._refuse, self._fail_once = max_labels, refuse, set(fail_once)
        self.bytes_read: dict[str, int] = {}

    @property
    def parameters(self) -> dict[str, str]:
        return {"max_labels": str(self._max_labels)}

    def detect(self, image: ImageSource) -> Detection:
        self.bytes_read[image.key] = len(image.content)
        if image.key in self._refuse:
            raise ImageRejected("the fake cannot read it", "not_image")
        if image.key in self._fail_once:
            self._fail_once.discard(image.key)
            raise RuntimeError("the fake model is busy")
        return Detection([DetectedLabel(name="Person", confidence=60)], "fake-1")


def with_fake(fake_of: Callable[[Wiring], FakeLocalDetector]) -> dict[str, Any]:
    return {"fake-local": fake_of}


def test_each_detector_labels_every_image_into_its_own_event_and_table(lane_for, in_process):
    lane = lane_for(TWO)
    key = lane.key()
    lane.teach({"match": {"key": key}, "labels": [lane.label("Person", 97)]})
    fake = FakeLocalDetector(10)
    before = {name: lane.metric("labeler_images_labeled_total", detector=name)
              for name in ("aws-rekognition", "local")}

    with in_process(factories=with_fake(lambda _: fake)):
        lane.put(key)
        events = lane.events(lambda events: len(events) >= 2)

    assert sorted(e.detector for e in events) == ["aws-rekognition", "local"]
    assert len({e.event_id for e in events}) == 2
    assert {e.detector: e.model_version for e in events}["local"] == "fake-1"
    # Same (object_key, label) in both, each in its own table: neither overwrites the other.
    [original] = lane.rows(key)
    [local] = lane.rows(key, "local")
    assert (original["label"], original["confidence"], original["detector"]) == (
        "Person", 97, "aws-rekognition")
    assert (local["label"], local["confidence"], local["detector"]) == ("Person", 60, "local")
    assert fake.bytes_read[key] == len(lane.jpeg)
    for name, count in before.items():
        assert lane.metric("labeler_images_labeled_total", detector=name) == count + 1


def test_a_detector_refusing_an_image_leaves_the_others_labelling(lane_for, in_process):
    lane = lane_for(TWO)
    key = lane.key()
    before = {name: lane.metric("labeler_images_failed_total", detector=name, reason="not_image")
              for name in ("aws-rekognition", "local")}

    with in_process(factories=with_fake(lambda _: FakeLocalDetector(10, frozenset({key})))):
        lane.put(key)
        lane.wait_for(lambda: lane.queue_depth(f"{lane.queue}-dlq") == 1, timeout=20)
        [event] = lane.events(lambda events: len(events) >= 1)

    assert event.detector == "aws-rekognition" and lane.rows(key)
    assert lane.rows(key, "local") == []
    [dead] = lane.dead_letters()
    attributes = dead["MessageAttributes"]
    assert attributes["failure-reason"]["StringValue"] == "not_image"
    after = {name: lane.metric("labeler_images_failed_total", detector=name, reason="not_image")
             for name in before}
    assert after == {"aws-rekognition": before["aws-rekognition"], "local": before["local"] + 1}


def test_a_transient_failure_redoes_the_image_after_the_others_are_published(
        lane_for, in_process):
    lane = lane_for(TWO)
    key = lane.key()
    fake = FakeLocalDetector(10, fail_once=frozenset({key}))

    with in_process(factories=with_fake(lambda _: fake)):
        lane.put(key)
        events = lane.events(lambda events: any(e.detector == "local" for e in events))
        lane.wait_for(lambda: lane.queue_depth() == 0, timeout=20)

    original = [e for e in events if e.detector == "aws-rekognition"]
    # Published before the failure and again on the redelivery, under the one id.
    assert len(original) == 2 and len({e.event_id for e in original}) == 1
    assert lane.rows(key) and lane.rows(key, "local")
    assert lane.queue_depth(f"{lane.queue}-dlq") == 0


def relabel_with(lane: Any, max_labels: int) -> None:
    async def go() -> None:
        factories = {**DETECTOR_FACTORIES,
                     "fake-local": lambda wiring: FakeLocalDetector(wiring.settings.max_labels)}
        labeler = build_labeler(LabelerSettings(LABELER_MAX_LABELS=max_labels), factories)
        await labeler.publisher.start()
        try:
            summary = await relabel(labeler, lane.bucket, "alarms/", 2, lambda *_: None)
        finally:
            await labeler.publisher.stop()
        assert {name: dict(counts) for name, counts in summary.outcomes.items()} == {
            "aws-rekognition": {"labeled": 1}, "local": {"labeled": 1}}
    asyncio.run(go())


def test_a_relabel_with_other_settings_gets_other_event_ids_for_every_detector(lane_for):
    lane = lane_for(TWO)
    key = lane.key()
    lane.put(key)

    relabel_with(lane, 10)
    relabel_with(lane, 5)

    events = lane.events(lambda events: len(events) >= 4)
    ids: dict[str, set[str]] = {}
    for event in events:
        ids.setdefault(event.detector, set()).add(event.event_id)
    assert {name: len(found) for name, found in ids.items()} == {"aws-rekognition": 2,
                                                                 "local": 2}


def test_the_backfill_replays_each_detectors_table_from_its_own_checkpoint(
        lane_for, in_process, new_topic):
    lane = lane_for(TWO)
    keys = [lane.key(name=f"b{index}-{uuid.uuid4().hex[:4]}") for index in range(2)]
    with in_process(factories=with_fake(lambda _: FakeLocalDetector(10))):
        for key in keys:
            lane.put(key)
        lane.events(lambda events: len(events) >= 4)
    replay = new_topic()

    async def go() -> dict[str, Any]:
        factories = {**DETECTOR_FACTORIES, "fake-local": lambda _: FakeLocalDetector(10)}
        labeler = build_labeler(LabelerSettings(LABEL_TOPIC=replay), factories)
        await labeler.publisher.start()
        try:
            return await backfill(labeler, full=False, batch_size=10)
        finally:
            await labeler.publisher.stop()
    summaries = asyncio.run(go())

    assert {name: summary.events for name, summary in summaries.items()} == {
        "aws-rekognition": 2, "local": 2}
    replayed = lane.events(lambda events: len(events) >= 4, topic=replay)
    assert sorted((e.detector, e.object_key) for e in replayed) == sorted(
        (name, key) for name in ("aws-rekognition", "local") for key in keys)
    s3 = lane.client("s3")
    stored = {item["Key"] for item in s3.list_objects_v2(Bucket=lane.bucket,
                                                         Prefix="status/")["Contents"]}
    # One backfill checkpoint per detector, beside the mark the reconcile at start leaves.
    assert stored - {RECONCILE_MARK_KEY} == {"status/label_to_graph_checkpoint",
                                             "status/label_to_graph_checkpoint.local"}


def test_two_labelers_on_a_fan_out_each_label_every_upload_with_their_detector(
        lane_for, in_process):
    # One deployment per detector: SNS gives each labeler's queue every upload.
    lane = lane_for(TWO, fan_out=True)
    key = lane.key()
    local = f"{lane.queue}-local"

    with in_process(LABELER_DETECTORS="aws-rekognition"), \
            in_process(factories=with_fake(lambda _: FakeLocalDetector(10)),
                       LABELER_DETECTORS="local=fake-local", IMAGE_QUEUE_NAME=local):
        lane.put(key)
        events = lane.events(lambda events: len(events) >= 2)
        lane.wait_for(lambda: lane.queue_depth() == 0 and lane.queue_depth(local) == 0,
                      timeout=20)

    assert sorted(e.detector for e in events) == ["aws-rekognition", "local"]
    assert lane.rows(key) and lane.rows(key, "local")


PHOTOS = Path(__file__).resolve().parents[3] / "samples" / "photos"


def test_the_real_ssd_beside_rekognition_labels_a_photograph_into_its_own_table(
        lane_for, in_process):
    lane = lane_for("aws-rekognition,ssd-mobilenet-v2-coco")
    key = lane.key()
    lane.teach({"match": {"key": key}, "labels": [lane.label("Plant", 80)]})

    with in_process():
        lane.put(key, (PHOTOS / "astronaut.jpg").read_bytes())
        events = lane.events(lambda events: len(events) >= 2, timeout=60)

    by_detector = {event.detector: event for event in events}
    assert set(by_detector) == {"aws-rekognition", "ssd-mobilenet-v2-coco"}
    assert "Person" in {label.name for label in by_detector["ssd-mobilenet-v2-coco"].labels}
    assert [row["label"] for row in lane.rows(key)] == ["Plant"]
    assert "Person" in {row["label"] for row in lane.rows(key, "ssd-mobilenet-v2-coco")}
