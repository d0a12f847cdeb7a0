"""Detectors side by side through the real servers: three detectors label the same images
(events written by the real graph-writer), reviewers judge them, and the api compares them,
orders the review queue by their disagreements and filters every label list by detector.

The images sit on dates no other test uses (June 2011), so every count here is exact.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from labelgraph_contract import DetectedLabel, ImageLabeled, captured_fields, labelling_event_id
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import publish_events

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
KEY = f"key-{RUN}"
LABEL = f"Walker{RUN}"
CAMERAS = (f"gate-{RUN}", f"yard-{RUN}")
AWS, SSD, HOG = "aws-rekognition", "ssd-mobilenet-v2-coco", "opencv-hog"
NONE = None  # the detector labelled the image without the label
REVIEWED_DAY = datetime(2011, 6, 10, 12, tzinfo=UTC)
QUEUE_DAY = datetime(2011, 6, 12, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Shot:
    name: str
    minutes: int  # after the day's noon
    truth: bool | None  # None: nobody reviewed it
    confidences: dict[str, float | None]  # per detector that labelled it

    def key(self) -> str:
        return f"alarms/{CAMERAS[self.minutes % 2]}/{RUN}/{self.name}.jpg"

    def captured(self) -> datetime:
        day = QUEUE_DAY if self.truth is None else REVIEWED_DAY
        return day + timedelta(minutes=self.minutes)


SHOTS = [
    # Reviewed: all three detectors on every image but r6 (HOG never saw it).
    Shot("r1", 1, True, {AWS: 99.0, SSD: 80.0, HOG: 95.0}),
    Shot("r2", 2, True, {AWS: NONE, SSD: 70.0, HOG: NONE}),
    Shot("r3", 3, True, {AWS: 95.0, SSD: 40.0, HOG: NONE}),
    Shot("r4", 4, False, {AWS: NONE, SSD: 60.0, HOG: 92.0}),
    Shot("r5", 5, False, {AWS: NONE, SSD: NONE, HOG: NONE}),
    Shot("r6", 6, True, {AWS: 97.0, SSD: 91.0}),
    Shot("r7", 7, True, {AWS: NONE, SSD: 55.0, HOG: 30.0}),
    # Unreviewed, for the queue (newest is the highest minute).
    Shot("q8", 60, None, {AWS: 96.0, SSD: 30.0}),
    Shot("q9", 50, None, {AWS: 99.0, SSD: 85.0}),
    Shot("q10", 40, None, {AWS: NONE, HOG: 91.0}),
    Shot("q11", 30, None, {AWS: NONE, SSD: NONE}),
    Shot("q12", 20, None, {AWS: 45.0}),
    Shot("q13", 10, None, {AWS: 95.0, SSD: 60.0}),
]


def events() -> list[ImageLabeled]:
    made = []
    for shot in SHOTS:
        for detector, confidence in shot.confidences.items():
            labels = {"Plant": 50.0, **({LABEL: confidence} if confidence is not None else {})}
            identity = dict(bucket="security-alarms", object_key=shot.key(), image_etag="e1",
                            detector=detector, model_version="1.0")
            made.append(ImageLabeled.model_validate(dict(
                event_id=labelling_event_id(**identity), **identity,
                camera=CAMERAS[shot.minutes % 2], **captured_fields(shot.captured()),
                labeled_at=datetime.now(UTC), labels=[
                    DetectedLabel(name=name, confidence=value) for name, value in labels.items()])))
    return made


@dataclass
class Api:
    url: str

    def get(self, path: str, params: Any = None) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers={"X-API-Key": KEY},
                         timeout=30)

    def ok(self, path: str, params: Any = None) -> Any:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    topic = f"detectors-{RUN}"
    written = events()
    asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], topic, written,
                               partitions=2))
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("detectors-logs"), extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"detectors-{RUN}",
        "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
        "API_KEYS": KEY})
    try:
        services.start(names=("graph-writer", "api"))
        api = Api(services.api_url)
        wait_for(lambda: _edges(api) == sum(1 for e in written for label in e.labels))
        for shot in SHOTS:
            if shot.truth is not None:
                response = httpx.put(f"{api.url}/verdicts", headers={"X-API-Key": KEY},
                                     json={"object_key": shot.key(), "label": LABEL,
                                           "present": shot.truth, "reviewer": "ann"}, timeout=30)
                assert response.status_code == 200, response.text
        yield api
    finally:
        services.stop()


def _edges(api: Api) -> int:
    response = api.get("/images", {"camera": list(CAMERAS), "limit": 100})
    if response.status_code == 422:  # a camera not written yet is an unknown camera
        return 0
    assert response.status_code == 200, response.text
    return sum(len(item["labels"]) for item in response.json()["items"])


def june(day: int) -> str:
    return datetime(2011, 6, day, tzinfo=UTC).isoformat()


def counts(tp: int, fp: int, fn: int, tn: int) -> tuple[int, int, int, int]:
    return tp, fp, fn, tn


def at(result: dict[str, Any]) -> tuple[int, int, int, int]:
    point = result["at_threshold"]
    return (point["true_positives"], point["false_positives"], point["false_negatives"],
            point["true_negatives"])


# --- accuracy side by side -------------------------------------------------------------


def test_each_detector_is_judged_on_the_images_all_of_them_labelled(api):
    body = api.ok("/accuracy/detectors", {
        "label": LABEL, "camera": list(CAMERAS), "thresholds": f"{SSD}:50",
        "target_recall": 75, "step": 10})
    assert body["reviewed"] == 7 and body["compared"] == 6  # r6: HOG never labelled it
    results = {row["detector"]: row for row in body["detectors"]}
    assert list(results) == sorted([AWS, SSD, HOG])
    assert {name: row["labelled"] for name, row in results.items()} == {AWS: 7, SSD: 7, HOG: 6}
    assert {name: row["threshold"] for name, row in results.items()} == {
        AWS: 90, SSD: 50, HOG: 90}
    # Present: r1 r2 r3 r7; absent: r4 r5. A detector labelling without the label misses.
    assert at(results[AWS]) == counts(tp=2, fp=0, fn=2, tn=2)
    assert at(results[SSD]) == counts(tp=3, fp=1, fn=1, tn=1)
    assert at(results[HOG]) == counts(tp=1, fp=1, fn=3, tn=1)
    assert results[SSD]["at_threshold"]["precision"] == 0.75
    assert results[AWS]["at_threshold"]["false_negative_rate"] == 0.5
    # 75% of four people is three: SSD finds them at 55 (with r4's 60 a false alarm there);
    # AWS and HOG never label two of them at all, so no threshold gets them past 50%.
    ssd_target = results[SSD]["target_recall"]
    assert ssd_target["reached"] and ssd_target["threshold"] == 55.0
    assert ssd_target["at_threshold"]["true_positives"] == 3
    assert ssd_target["at_threshold"]["precision"] == 0.75
    for name in (AWS, HOG):
        target = results[name]["target_recall"]
        assert not target["reached"] and target["threshold"] is None
        assert target["best_recall"] == 0.5
    # The curve runs 0..100 in steps; at 0 SSD flags every image it gave the label.
    assert [point["threshold"] for point in results[SSD]["curve"]] == list(range(0, 101, 10))
    assert results[SSD]["curve"][0]["true_positives"] == 4


def test_comparing_fewer_detectors_widens_the_shared_images(api):
    body = api.ok("/accuracy/detectors", {"label": LABEL, "camera": list(CAMERAS),
                                          "detector": [AWS, SSD]})
    assert body["compared"] == 7 and [row["detector"] for row in body["detectors"]] == [AWS, SSD]
    aws = body["detectors"][0]
    assert at(aws) == counts(tp=3, fp=0, fn=2, tn=2)  # r6 now counts: AWS found it at 97
    assert aws["target_recall"] is None
    # The one-detector route agrees on its own images.
    single = api.ok("/accuracy", {"label": LABEL, "camera": list(CAMERAS), "detector": AWS})
    assert single["reviewed"] == 7 and at(single) == at(aws)


def test_no_reviews_in_scope_compare_nothing(api):
    body = api.ok("/accuracy/detectors", {"label": LABEL, "camera": CAMERAS[0],
                                          "until": "2000-01-01T00:00:00Z"})
    assert body == {**body, "reviewed": 0, "compared": 0, "detectors": []}


@pytest.mark.parametrize("params", [
    {"thresholds": f"{SSD}"}, {"thresholds": f"{SSD}:101"}, {"thresholds": f"{SSD}:1,{SSD}:2"},
    {"target_recall": 0}, {"target_recall": 100.5}, {"detector": "x" * 257},
])
def test_bad_comparison_parameters_are_a_422(api, params):
    response = api.get("/accuracy/detectors", {"label": LABEL, **params})
    assert response.status_code == 422 and response.json()["detail"]


# --- the review queue ------------------------------------------------------------------


def queue(api: Api, params: dict[str, Any]) -> list[dict[str, Any]]:
    items, cursor = [], None
    for _ in range(20):
        body = api.ok("/review-queue", {**params, **({"cursor": cursor} if cursor else {})})
        items += body["items"]
        if not (cursor := body["next_cursor"]):
            return items
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("since", [june(12), june(1)])  # a day (dates) and a month (label)
def test_disagreements_come_first_then_unlabelled_then_least_confident(api, since):
    scope = {"label": LABEL, "camera": list(CAMERAS), "since": since, "until": june(13),
             "limit": 2}
    items = queue(api, {**scope, "thresholds": f"{SSD}:50"})
    # q8: AWS flags, SSD (30 < 50) does not; q10: HOG flags, AWS labelled it without.
    # q9 and q13: both flag at SSD's 50. q12: one detector cannot disagree with itself.
    assert [(shot_name(item), item["reason"]) for item in items] == [
        ("q8", "disagreement"), ("q10", "disagreement"), ("q11", "unlabelled"),
        ("q12", "least confident"), ("q13", "least confident"), ("q9", "least confident")]
    assert [item["label_confidence"] for item in items] == [96.0, 91.0, None, 45.0, 95.0, 99.0]
    # At SSD's default 90, q9 and q13 are disagreements too.
    items = queue(api, scope)
    assert [(shot_name(item), item["reason"]) for item in items] == [
        ("q8", "disagreement"), ("q9", "disagreement"), ("q10", "disagreement"),
        ("q13", "disagreement"), ("q11", "unlabelled"), ("q12", "least confident")]
    q10 = next(item for item in items if shot_name(item) == "q10")
    assert sorted((label["detector"], label["name"]) for label in q10["labels"]) == sorted([
        (AWS, "Plant"), (HOG, LABEL), (HOG, "Plant")])


def shot_name(item: dict[str, Any]) -> str:
    return item["object_key"].rsplit("/", 1)[1].removesuffix(".jpg")


# --- filters by detector and the detector list -------------------------------------------


def test_image_search_by_detector_lists_its_images_and_only_its_labels(api):
    items = api.ok("/images", {"camera": list(CAMERAS), "detector": HOG, "limit": 100})["items"]
    assert sorted(shot_name(item) for item in items) == sorted(
        shot.name for shot in SHOTS if HOG in shot.confidences)
    assert {label["detector"] for item in items for label in item["labels"]} == {HOG}
    strong = api.ok("/images", {"camera": list(CAMERAS), "detector": SSD, "label": LABEL,
                                "min_confidence": 60, "limit": 100})["items"]
    assert sorted(shot_name(item) for item in strong) == ["q13", "q9", "r1", "r2", "r4", "r6"]


def test_sightings_histogram_and_rollups_by_detector(api):
    window = {"label": LABEL, "camera": list(CAMERAS), "since": june(10), "until": june(11)}
    sightings = api.ok("/sightings", {**window, "detector": HOG, "min_confidence": 90})
    assert sightings["images"] == 2  # r1 95, r4 92
    histogram = api.ok("/confidence-histogram", {**window, "detector": SSD, "bucket_width": 50})
    assert histogram["buckets"] == [{"confidence": 0, "images": 1},    # 40
                                    {"confidence": 50, "images": 5}]   # 80 70 60 91 55
    rollup = api.ok("/rollups", {"by": "day_of_month", "camera": list(CAMERAS), "detector": HOG,
                                 "since": june(1), "until": june(30)})
    assert rollup["rows"] == [{"day_of_month": 10, "images": 6},
                              {"day_of_month": 12, "images": 1}]
    labelled = api.ok("/rollups", {"by": "day", "camera": list(CAMERAS), "detector": AWS,
                                   "label": LABEL, "min_confidence": 90, "since": june(1)})
    assert labelled["rows"] == [{"date": "2011-06-10", "images": 3},
                                {"date": "2011-06-12", "images": 3}]


def test_detectors_seen_in_a_window(api):
    body = api.ok("/detectors", {"since": june(10), "until": june(13)})
    assert body == {"detectors": [{"detector": AWS, "images": 13}, {"detector": HOG, "images": 7},
                                  {"detector": SSD, "images": 11}],
                    "images_scanned": 13, "complete": True}
    assert api.ok("/detectors", {"since": june(11), "until": june(12)}) == {
        "detectors": [], "images_scanned": 0, "complete": True}
