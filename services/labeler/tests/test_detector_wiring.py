"""Which detectors a labeler runs, and how one image goes through several: with fakes, no
servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from labelgraph_contract import DetectedLabel, ImageLabeled
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.bootstrap import UnknownDetectorKind, planned_detectors
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.domain import Detection, ImageRejected, ImageSource, KeyLayout, StoredImage
from labelgraph_labeler.handlers import ConfiguredDetector, Labeler, Outcome, label_image

KEY = "alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"


def test_the_default_is_the_original_detector_alone():
    [(entry, _)] = planned_detectors(LabelerSettings())
    assert (entry.name, entry.kind) == ("aws-rekognition", "aws-rekognition")


def test_an_unknown_kind_is_refused_naming_the_kinds_there_are():
    settings = LabelerSettings(LABELER_DETECTORS="aws-rekognition,yolo")
    with pytest.raises(UnknownDetectorKind, match="'yolo'; the kinds are aws-rekognition, "
                       "opencv-hog, ssd-mobilenet-v2-coco"):
        planned_detectors(settings)


def test_names_are_checked_with_the_settings():
    with pytest.raises(ValidationError, match="more than once"):
        LabelerSettings(LABELER_DETECTORS="opencv-hog,opencv-hog")


def test_kinds_resolve_without_loading_any_model():
    # Planning a local model imports nothing of it: only building it does.
    plan = planned_detectors(LabelerSettings(LABELER_DETECTORS="a=opencv-hog,b=aws-rekognition"))
    assert [(entry.name, entry.kind) for entry, _ in plan] == [("a", "opencv-hog"),
                                                               ("b", "aws-rekognition")]


class FakeImages:
    def describe(self, bucket: str, key: str) -> StoredImage:
        return StoredImage(bucket, key, "etag", datetime(2016, 11, 5, tzinfo=UTC))

    def content(self, bucket: str, key: str) -> bytes:
        return b"jpeg"


class FakeTable:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def replace_rows(self, key: str, rows: list[dict[str, Any]], *, first_write: bool) -> None:
        self.rows[key] = rows


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[ImageLabeled] = []

    async def publish(self, event: ImageLabeled) -> None:
        self.published.append(event)


class FakeCheckpoints:
    key = "status/checkpoint"


class Answering:
    kind = "fake"
    parameters = {"max_labels": "10"}

    def __init__(self, answer: Exception | None = None) -> None:
        self._answer = answer

    def detect(self, image: ImageSource) -> Detection:
        if self._answer:
            raise self._answer
        return Detection([DetectedLabel(name="Person", confidence=90)], "1")


def labeler_of(**models: Answering) -> tuple[Labeler, FakePublisher, dict[str, FakeTable]]:
    publisher, tables = FakePublisher(), {name: FakeTable() for name in models}
    detectors = tuple(ConfiguredDetector(name, model, tables[name], FakeCheckpoints())  # type: ignore[arg-type]
                      for name, model in models.items())
    labeler = Labeler(FakeImages(), detectors, publisher,  # type: ignore[arg-type]
                      KeyLayout.from_settings(LabelerSettings().key_pattern, "UTC"), frozenset())
    return labeler, publisher, tables


def test_a_refusal_stays_with_its_detector():
    labeler, publisher, tables = labeler_of(
        good=Answering(), picky=Answering(ImageRejected("no", "not_image")))

    results = asyncio.run(label_image(labeler, Upload("security-alarms", KEY)))

    assert [(r.detector, r.outcome, r.reason) for r in results] == [
        ("good", Outcome.LABELED, ""), ("picky", Outcome.FAILED, "not_image")]
    assert [e.detector for e in publisher.published] == ["good"]
    assert KEY in tables["good"].rows and KEY not in tables["picky"].rows


def test_a_transient_failure_is_raised_after_the_others_are_written_and_published():
    labeler, publisher, tables = labeler_of(
        flaky=Answering(ConnectionError("model server down")), good=Answering())

    with pytest.raises(ConnectionError, match="model server down"):
        asyncio.run(label_image(labeler, Upload("security-alarms", KEY)))

    assert [e.detector for e in publisher.published] == ["good"]
    assert KEY in tables["good"].rows


def test_an_image_no_detector_can_label_fails_for_each_of_them():
    labeler, publisher, _ = labeler_of(one=Answering(), two=Answering())

    results = asyncio.run(label_image(labeler, Upload("security-alarms", "alarms/readme.txt")))

    assert [(r.detector, r.reason) for r in results] == [("one", "key_layout"),
                                                         ("two", "key_layout")]
    assert publisher.published == []
