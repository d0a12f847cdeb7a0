"""Every api route through the real servers, against a graph the real graph-writer built.

The module writes its own images (unique cameras and labels, a fresh topic) and computes
every expected number here, from the events it generated, independently of the api's Cypher.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import GraphDatabase

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    encode_event,
    labelling_event_id,
)
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, produce, publish_events

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
CAMERAS = (f"front-{RUN}", f"back-{RUN}", f"side-{RUN}")
TAGS = (f"Tag{RUN}-a", f"Tag{RUN}-b", f"Tag{RUN}-c")  # labels no other test writes
KEY = f"key-{RUN}"
LA = ZoneInfo("America/Los_Angeles")
DETECTOR = "aws-rekognition"
NOW = datetime.now(UTC).replace(microsecond=0)
# Person confidences chosen to sit on the edges: the 90 threshold, a .5 to round, absent.
PERSON = (None, None, 99.7, 95.0, 90.0, 89.99, 72.5, 60.25, 0.4)


@dataclass
class Img:
    key: str
    camera: str
    captured: datetime  # camera-local, with offset
    labels: dict[str, float] = field(default_factory=dict)

    @property
    def ts(self) -> int:
        return int(self.captured.timestamp())

    def person(self) -> float | None:
        return self.labels.get("Person")


def make_images() -> list[Img]:
    """Recent images (some inside the last 2 hours) and months of history, seeded."""
    rng = random.Random(5)  # same numbers every run, only the names differ
    minutes = [m for m in range(3, 240, 7) if not 110 <= m <= 130]  # none on the 2 h edge
    moments = [NOW - timedelta(minutes=m) for m in minutes]
    for year, month in ((2016, 11), (2017, 11), (2017, 12)):
        moments += [datetime(year, month, rng.randint(1, 28), rng.randint(0, 23),
                             rng.randint(0, 59), tzinfo=LA) for _ in range(10)]
    images = []
    for index, moment in enumerate(moments):
        labels = {"Plant": round(rng.uniform(50, 99), 3)}
        person = PERSON[index % len(PERSON)]
        if person is not None:
            labels["Person"] = person
        for rank, tag in enumerate(TAGS):
            if index % (rank + 1) == 0:  # a: every image, b: every 2nd, c: every 3rd
                labels[tag] = round(rng.uniform(40, 100), 3)
        camera = CAMERAS[index % len(CAMERAS)]
        images.append(Img(f"alarms/{camera}/{index:03d}/{RUN}_{index}.jpg", camera,
                          moment.astimezone(LA), labels))
    # Two images in the same second: the cursor must order them by key.
    twin = images[0]
    images.append(Img(twin.key.replace(".jpg", "-twin.jpg"), twin.camera, twin.captured,
                      {"Person": 97.0, TAGS[0]: 50.0}))
    return images


# Boxes: two detectors' instances of one label on an image of its own camera, written by
# the real graph-writer, and an image whose stored boxes a foreign writer spoilt (Cypher).
SSD = "ssd-mobilenet-v2-coco"
HOG = "opencv-hog"
BOX_CAMERA = f"boxes-{RUN}"
BOXED, UNBOXED = f"Boxed{RUN}", f"Unboxed{RUN}"
BOX_KEY = f"alarms/{BOX_CAMERA}/{RUN}/boxed.jpg"
SPOILT_KEY = f"alarms/{BOX_CAMERA}/{RUN}/spoilt.jpg"
Box = tuple[float, float, float, float, float]  # left, top, width, height, confidence
BOXES: dict[str, list[Box]] = {
    DETECTOR: [(0.1, 0.2, 0.3, 0.4, 99.5), (0.5, 0.5, 0.25, 0.5, 80.0)],
    SSD: [(0.125, 0.25, 0.3, 0.35, 70.25)]}
# What a foreign writer left in a HAS_LABEL's boxes, and what of it the api answers.
SPOILT_BOXES: list[tuple[Any, list[Box]]] = [
    ("[[0.1,0.2,0.3,0.4,50],[2,0,0.1,0.1,50],[0,0,0.1,0.1,101]]", [(0.1, 0.2, 0.3, 0.4, 50)]),
    ("[[true,0,0.1,0.1,50],[0,0,0.1,0.1],[\"0\",0,0.1,0.1,50]]", []),
    ('[["<img src=x onerror=alert(1)>",0,0.1,0.1,50]]', []),
    ("not json", []), ('{"left": 0.1}', []), ("[" * 3000, []), (42, []),
    (None, []),  # an edge written before boxes were stored
]


def box_events() -> list[ImageLabeled]:
    captured = (NOW - timedelta(minutes=5)).astimezone(LA)
    made = [labelling(BOX_KEY, captured, detector, [
        {"name": BOXED, "confidence": max(box[4] for box in boxes), "instances": [
            {"bounding_box": {"left": left, "top": top, "width": width, "height": height},
             "confidence": confidence} for left, top, width, height, confidence in boxes]},
        {"name": UNBOXED, "confidence": 55.0}]) for detector, boxes in BOXES.items()]
    return made + [labelling(SPOILT_KEY, captured, DETECTOR, [
        {"name": f"Spoilt{RUN}-{index}", "confidence": 90.0 - index}
        for index in range(len(SPOILT_BOXES))]),
        labelling(SPOILT_KEY, captured, HOG, [])]  # a detector that found nothing


# Confidences on both sides of 90 that a rounded bucket would count as 90, on a camera and
# label of their own, from one detector: exactly 2 are at or above 90.
EDGE_CAMERA, EDGE = f"edges-{RUN}", f"Edge{RUN}"
EDGE_CONFIDENCES = (89.52, 89.96, 90.0, 95.0)


def edge_events() -> list[ImageLabeled]:
    captured = (NOW - timedelta(minutes=5)).astimezone(LA)
    return [labelling(f"alarms/{EDGE_CAMERA}/{RUN}/{index}.jpg", captured, SSD,
                      [{"name": EDGE, "confidence": value}], camera=EDGE_CAMERA)
            for index, value in enumerate(EDGE_CONFIDENCES)]


def labelling(key: str, captured: datetime, detector: str, labels: list[dict[str, Any]],
              camera: str = BOX_CAMERA) -> ImageLabeled:
    identity = dict(bucket="security-alarms", object_key=key, image_etag="etag",
                    detector=detector, model_version="1.0")
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera=camera,
        **captured_fields(captured), labeled_at=NOW, labels=labels))


def event(image: Img) -> ImageLabeled:
    identity = dict(bucket="security-alarms", object_key=image.key, image_etag="etag",
                    detector=DETECTOR, model_version="3.0")
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera=image.camera,
        **captured_fields(image.captured), labeled_at=NOW,
        labels=[DetectedLabel(name=name, confidence=confidence)
                for name, confidence in image.labels.items()]))






@dataclass
class Api:
    url: str
    images: list[Img]
    env: dict[str, str]
    topic: str
    # The verdicts the api accepted, (key, label) -> (present, reviewer): the graph keeps
    # them, so a test expects them whichever tests ran before it.
    verdicts: dict[tuple[str, str], tuple[bool, str]] = field(default_factory=dict)

    def get(self, path: str, params: Any = None, key: str | None = KEY) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        return httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=30)

    def ok(self, path: str, params: Any = None) -> Any:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()

    def put(self, path: str, body: Any) -> httpx.Response:
        response = httpx.put(f"{self.url}{path}", json=body, headers={"X-API-Key": KEY},
                             timeout=30)
        if path == "/verdicts" and response.status_code == 200:
            judged = response.json()
            self.verdicts[body["object_key"], judged["label"]] = (judged["present"],
                                                                  judged["reviewer"])
        return response

    def reviews_of(self, key: str) -> list[tuple[str, bool, str]]:
        """What /images/{key} lists as its reviews: the latest verdict per label."""
        return sorted((label, *verdict) for (judged, label), verdict in self.verdicts.items()
                      if judged == key)

    def mine(self, **params: Any) -> dict[str, Any]:
        """Query parameters scoped to this module's cameras."""
        return {"camera": list(CAMERAS), **params}


@pytest.fixture(scope="module")
def api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    images = make_images()
    topic = f"api-test-{RUN}"
    asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], topic,
                               [event(image) for image in images] + box_events() + edge_events(),
                               partitions=3))
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("api-logs"), extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"api-test-{RUN}",
        "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
        "API_KEYS": f"other-key,{KEY}",
        # Wrong keys are sent on purpose here; their limiting is test_api_security's.
        "API_KEY_FAILURE_LIMIT": "10000"})
    try:
        services.start(names=("graph-writer", "api"))
        api = Api(services.api_url, images, stack.env, topic)
        wait_for(lambda: _served(api) == len(images) and _boxes_written(api)
                 and _edges_written(api))
        yield api
    finally:
        services.__exit__(None, None, None)


def _served(api: Api) -> int:
    cameras = api.ok("/cameras")
    return sum(row["images"] for row in cameras if row["camera"] in CAMERAS)


def _boxes_written(api: Api) -> bool:
    items = api.ok("/images", {"camera": BOX_CAMERA})["items"]
    return sorted(len(item["labels"]) for item in items) == sorted(
        [2 * len(BOXES), len(SPOILT_BOXES)]) and sorted(  # every detector's labels of both
        len(item["detectors"]) for item in items) == [2, 2]  # and the one that found none


def _edges_written(api: Api) -> bool:
    return any(row["camera"] == EDGE_CAMERA and row["images"] == len(EDGE_CONFIDENCES)
               for row in api.ok("/cameras"))


def iso_utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- cameras and labels --------------------------------------------------------------


def test_cameras_have_their_image_counts_and_spans(api):
    rows = {row["camera"]: row for row in api.ok("/cameras") if row["camera"] in CAMERAS}
    for camera in CAMERAS:
        own = [image.ts for image in api.images if image.camera == camera]
        assert rows[camera]["images"] == len(own)
        assert parse(rows[camera]["first_at"]) == datetime.fromtimestamp(min(own), UTC)
        assert parse(rows[camera]["last_at"]) == datetime.fromtimestamp(max(own), UTC)


def test_labels_by_prefix_most_frequent_first_and_paginated(api):
    counts = Counter(tag for image in api.images for tag in image.labels if tag in TAGS)
    expected = [{"label": tag, "images": counts[tag]} for tag in TAGS]  # a > b > c
    assert counts[TAGS[0]] > counts[TAGS[1]] > counts[TAGS[2]]
    page1 = api.ok("/labels", {"prefix": f"tag{RUN}", "limit": 2})  # case-insensitive
    assert page1 == {"items": expected[:2], "next_offset": 2}
    page2 = api.ok("/labels", {"prefix": f"TAG{RUN}", "limit": 2, "offset": 2})
    assert page2 == {"items": expected[2:], "next_offset": None}
    assert api.ok("/labels", {"prefix": f"nothing-{RUN}"}) == {"items": [], "next_offset": None}


COUNTED_LABELS = """
UNWIND $labels AS given
MERGE (label:Label {label_name: given.name})
SET label.edge_count = given.counter
WITH label, given
UNWIND range(1, given.edges) AS n
CREATE (:Image {object_key: given.name + '/' + toString(n)})-[:HAS_LABEL]->(label)
"""
DROP_COUNTED = """
MATCH (label:Label) WHERE label.label_name STARTS WITH $prefix
OPTIONAL MATCH (label)<-[:HAS_LABEL]-(image:Image)
DETACH DELETE label, image
"""


def test_labels_answer_from_each_labels_edge_counter_and_by_degree_where_it_has_none(api):
    # Counters the writer would never leave (not the degree) show that /labels reads them.
    prefix = f"Counter{RUN}"
    labels = [{"name": f"{prefix}-kept", "counter": 5, "edges": 2},
              {"name": f"{prefix}-none", "counter": None, "edges": 3},  # before the counter
              {"name": f"{prefix}-emptied", "counter": 0, "edges": 1}]
    with GraphDatabase.driver(api.env["NEO4J_URI"], auth=(
            api.env["NEO4J_USER"], api.env["NEO4J_PASSWORD"])) as driver:
        try:
            driver.execute_query(COUNTED_LABELS, labels=labels,
                                 database_=api.env["NEO4J_DATABASE"])
            assert api.ok("/labels", {"prefix": prefix.lower()}) == {"items": [
                {"label": f"{prefix}-kept", "images": 5},
                {"label": f"{prefix}-none", "images": 3}], "next_offset": None}
        finally:
            driver.execute_query(DROP_COUNTED, prefix=prefix,
                                 database_=api.env["NEO4J_DATABASE"])


# --- heat map and histogram ----------------------------------------------------------


def expected_sightings(images: list[Img], label: str, since: int, until: int,
                       minimum: float) -> list[dict[str, Any]]:
    hits: dict[str, list[Img]] = {}
    for image in images:
        confidence = image.labels.get(label)
        if confidence is not None and confidence >= minimum and since <= image.ts < until:
            hits.setdefault(image.camera, []).append(image)
    rows = []
    for camera, found in hits.items():
        latest = max(found, key=lambda image: image.ts)
        rows.append({"camera": camera, "images": len(found),
                     "first_at": iso_utc(min(image.ts for image in found)),
                     "last_at": iso_utc(latest.ts),
                     "last_captured_at": latest.captured.isoformat()})
    return sorted(rows, key=lambda row: (-row["images"], row["camera"]))


def test_sightings_default_to_people_at_90_in_the_last_two_hours(api):
    body = api.ok("/sightings", api.mine())
    until = parse(body["until"])
    assert abs((until - datetime.now(UTC)).total_seconds()) < 60
    assert until - parse(body["since"]) == timedelta(hours=2)
    expected = expected_sightings(api.images, "Person", int(until.timestamp()) - 7200,
                                  int(until.timestamp()) + 1, 90)
    assert body["label"] == "Person" and body["min_confidence"] == 90
    assert body["cameras"] == expected
    assert body["images"] == sum(row["images"] for row in expected) > 0


def test_sightings_of_a_label_over_an_explicit_window(api):
    since, until = datetime(2017, 11, 1, tzinfo=LA), datetime(2018, 1, 1, tzinfo=LA)
    body = api.ok("/sightings", {"label": TAGS[1], "min_confidence": 70,
                                 "since": since.isoformat(), "until": until.isoformat()})
    expected = expected_sightings(api.images, TAGS[1], int(since.timestamp()),
                                  int(until.timestamp()), 70)
    assert body["cameras"] == expected and expected
    assert parse(body["since"]) == since


def test_a_raw_plus_offset_and_relative_windows_are_read(api):
    # A `+` in a query string is a space once decoded: "+00:00" arrives as " 00:00".
    raw = httpx.get(f"{api.url}/sightings?label={TAGS[1]}&since=2017-11-01T00:00:00+00:00"
                    "&until=2018-01-01T08:00:00+00:00", headers={"X-API-Key": KEY}, timeout=30)
    assert raw.status_code == 200, raw.text
    assert parse(raw.json()["since"]) == datetime(2017, 11, 1, tzinfo=UTC)
    since = datetime(2017, 11, 1, tzinfo=UTC)
    assert raw.json()["images"] == api.ok("/sightings", {
        "label": TAGS[1], "since": since.isoformat(),
        "until": datetime(2018, 1, 1, 8, tzinfo=UTC).isoformat()})["images"]
    for path in ("/images", "/sightings", "/confidence-histogram", "/detectors", "/accuracy",
                 "/accuracy/detectors", "/review-queue"):
        assert api.get(path, {"since": "-30d", "until": "-1m"}).status_code == 200, path
    # "-3h" is read when the request arrives, not when this module began: count the images
    # three hours before the request's start and end (an image may age out in between).
    asked = datetime.now(UTC)
    rows = api.ok("/rollups", api.mine(by="year", since="-3h"))["rows"]
    answered = datetime.now(UTC)

    def within_3h_of(moment: datetime) -> int:
        return sum(image.ts >= (moment - timedelta(hours=3)).timestamp() for image in api.images)

    assert within_3h_of(answered) <= sum(row["images"] for row in rows) <= within_3h_of(asked)
    assert {row["year"] for row in rows} <= {asked.astimezone(LA).year - 1,
                                             asked.astimezone(LA).year}
    assert api.get("/images", {"since": "-999999w"}).status_code == 422


def test_openapi_shows_each_routes_default_window(api):
    paths = api.ok("/openapi.json")["paths"]

    def described(path: str, name: str) -> str:
        return next(p["description"] for p in paths[path]["get"]["parameters"]
                    if p["name"] == name)

    assert "2 hours before until" in described("/sightings", "since")
    assert "now" in described("/sightings", "until")
    for path in ("/images", "/rollups", "/accuracy", "/review-queue", "/detectors"):
        assert "from the first image" in described(path, "since"), path
        assert "-2h" in described(path, "since"), path


def test_label_filters_match_the_graph_spelling_in_any_case(api):
    since = datetime(2016, 1, 1, tzinfo=UTC).isoformat()
    asked = api.ok("/sightings", api.mine(label=TAGS[1].upper(), since=since))
    assert asked == {**api.ok("/sightings", api.mine(label=TAGS[1], since=since)),
                     "until": asked["until"]}
    assert asked["label"] == TAGS[1] and asked["images"] > 0
    histogram = api.ok("/confidence-histogram", api.mine(label=TAGS[2].lower()))
    assert histogram["label"] == TAGS[2]
    assert histogram["buckets"] == expected_histogram(api.images, TAGS[2], None)


def test_sightings_empty_when_nothing_matches(api):
    body = api.ok("/sightings", api.mine(since="2000-01-01T00:00:00Z",
                                         until="2000-01-02T00:00:00Z"))
    assert body["images"] == 0 and body["cameras"] == [] and body["unknown_labels"] == []


# --- names the graph does not know -----------------------------------------------------

UNKNOWN_CAMERA = f"nocam-{RUN}"


WINDOWED = {"/sightings": {}, "/confidence-histogram": {}, "/images": {},
            "/rollups": {"by": "year"}, "/accuracy": {}, "/accuracy/detectors": {},
            "/review-queue": {}}


@pytest.mark.parametrize("path", list(WINDOWED))
def test_an_unknown_camera_is_a_422_naming_cameras_that_exist(api, path):
    response = api.get(path, {**WINDOWED[path], "camera": [CAMERAS[0], UNKNOWN_CAMERA]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert repr(UNKNOWN_CAMERA) in body["detail"] and body["parameter"] == "camera"
    assert UNKNOWN_CAMERA not in body["known"] and 0 < len(body["known"]) <= 50
    assert body["known"] == sorted(body["known"])
    if body["known_complete"]:
        assert set(CAMERAS) <= set(body["known"])


@pytest.mark.parametrize("path", [path for path in WINDOWED if path != "/review-queue"])
def test_a_misspelt_detector_is_a_422_naming_the_detectors_of_the_newest_images(api, path):
    response = api.get(path, {**WINDOWED[path], "detector": "aws-rekogniton"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert "'aws-rekogniton'" in body["detail"] and body["parameter"].startswith("detector")
    assert DETECTOR in body["known"]


def test_a_known_detector_with_nothing_in_scope_is_an_empty_answer(api):
    # SSD labelled only the boxes' camera: nothing on this module's cameras.
    assert api.ok("/rollups", api.mine(by="year", detector=SSD))["rows"] == []
    assert api.ok("/images", api.mine(detector=SSD))["items"] == []


def test_a_label_no_image_carries_is_an_empty_answer_that_says_so(api):
    unknown = f"Preson{RUN}"
    body = api.ok("/sightings", api.mine(label=unknown, since="2000-01-01T00:00:00Z"))
    assert body["images"] == 0 and body["unknown_labels"] == [unknown]
    page = api.ok("/images", api.mine(label=["person", unknown]))
    assert page["items"] == [] and page["unknown_labels"] == [unknown]
    for path in ("/confidence-histogram", "/accuracy", "/accuracy/detectors", "/review-queue"):
        assert api.ok(path, api.mine(label=unknown))["unknown_labels"] == [unknown], path
    assert api.ok("/rollups", api.mine(by="year", label=unknown)) == {
        "by": ["year"], "rows": [], "unknown_labels": [unknown]}
    assert api.ok("/sightings", api.mine(label="person"))["unknown_labels"] == []


def bucket_of(value: float, width: float | None) -> float:
    """A bucket's lower bound: buckets are [bound, bound + width), width 1 when omitted."""
    return math.floor(value / (width or 1)) * (width or 1)


def expected_histogram(images: list[Img], label: str, width: float | None) -> list[dict]:
    counts = Counter(bucket_of(image.labels[label], width) for image in images
                     if label in image.labels)
    return [{"confidence": value, "images": count} for value, count in sorted(counts.items())]


def test_confidence_histogram_per_whole_confidence_floored(api):
    body = api.ok("/confidence-histogram", api.mine())
    assert body["buckets"] == expected_histogram(api.images, "Person", None)
    for value, bucket in ((72.5, 72), (89.99, 89)):  # in [72, 73) and [89, 90)
        assert {"confidence": bucket, "images": sum(
            1 for image in api.images if image.person() == value)} in body["buckets"]
    assert body["threshold"] == 90 and body["at_or_above"] == sum(
        1 for image in api.images if (image.person() or 0) >= 90)
    assert body["images"] == sum(1 for image in api.images if image.person() is not None)
    assert body["without_label"] == sum(1 for image in api.images if image.person() is None)
    assert body["without_label"] > 0


def test_images_without_the_label_count_within_the_window_and_detector(api):
    since = datetime(2017, 11, 1, tzinfo=LA)
    until = datetime(2018, 1, 1, tzinfo=LA)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    scoped = [image for image in api.images if since.timestamp() <= image.ts < until.timestamp()]
    body = api.ok("/confidence-histogram", api.mine(label=TAGS[1], **window))
    assert body["without_label"] == sum(1 for image in scoped if TAGS[1] not in image.labels)
    assert body["images"] + body["without_label"] == len(scoped)
    # Another detector labelled none of these images: none are in its scope.
    other = api.ok("/confidence-histogram", api.mine(label=TAGS[1], detector=SSD, **window))
    assert other["images"] == other["without_label"] == 0


def test_confidence_histogram_per_bucket_width_camera_and_window(api):
    camera = CAMERAS[1]
    since = datetime(2017, 1, 1, tzinfo=UTC)
    body = api.ok("/confidence-histogram", {"label": TAGS[0], "camera": camera,
                                            "bucket_width": 7.5, "since": since.isoformat()})
    scoped = [image for image in api.images
              if image.camera == camera and image.ts >= since.timestamp()]
    buckets = [(row["confidence"], row["images"]) for row in body["buckets"]]
    expected = [(row["confidence"], row["images"])
                for row in expected_histogram(scoped, TAGS[0], 7.5)]
    assert [(pytest.approx(value), count) for value, count in expected] == buckets
    assert api.ok("/confidence-histogram", {"label": f"none-{RUN}"})["buckets"] == []


@pytest.mark.parametrize("window", [{}, {"since": "-1h"}],  # from the label / the dates
                         ids=["all time", "last hour"])
def test_confidence_histogram_counts_at_or_above_its_threshold_exactly(api, window):
    asked = {"label": EDGE, "camera": EDGE_CAMERA, "detector": SSD, **window}
    body = api.ok("/confidence-histogram", asked)
    assert (body["images"], body["threshold"], body["at_or_above"]) == (4, 90, 2)
    assert body["buckets"] == [{"confidence": 89, "images": 2}, {"confidence": 90, "images": 1},
                               {"confidence": 95, "images": 1}]
    for threshold in (0, 89.52, 89.53, 89.96, 95, 95.01, 100):
        expected = sum(1 for value in EDGE_CONFIDENCES if value >= threshold)
        assert api.ok("/confidence-histogram", {**asked, "threshold": threshold})[
            "at_or_above"] == expected, threshold


# --- images --------------------------------------------------------------------------


def newest_first(images: list[Img]) -> list[str]:
    return [image.key for image in sorted(images, key=lambda i: (i.ts, i.key), reverse=True)]


def all_pages(api: Api, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items, cursor = [], None
    for _ in range(100):
        body = api.ok(path, {**params, **({"cursor": cursor} if cursor else {})})
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_image_search_by_cameras_newest_first_across_pages(api):
    items = all_pages(api, "/images", api.mine(camera=list(CAMERAS[:2]), limit=4))
    expected = newest_first([i for i in api.images if i.camera in CAMERAS[:2]])
    assert [item["object_key"] for item in items] == expected


def test_image_search_by_labels_confidence_and_time(api):
    since, until = NOW - timedelta(hours=3), NOW
    params = api.mine(label=["Person", TAGS[0]], min_confidence=60.25, max_confidence=99.5,
                      since=since.isoformat(), until=until.isoformat(), limit=3)
    items = all_pages(api, "/images", params)
    expected = newest_first([
        image for image in api.images if since.timestamp() <= image.ts < until.timestamp()
        and all(60.25 <= image.labels.get(name, -1) <= 99.5 for name in ("Person", TAGS[0]))])
    assert [item["object_key"] for item in items] == expected and expected


def test_image_items_carry_labels_local_time_and_a_working_presigned_url(api):
    image = api.images[5]
    body = b"\xff\xd8jpeg bytes " + RUN.encode()
    aws_client(api.env, "s3").put_object(Bucket="security-alarms", Key=image.key, Body=body)
    [item] = [item for item in api.ok("/images", {"camera": image.camera, "limit": 500})[
        "items"] if item["object_key"] == image.key]
    assert item["captured_at"] == image.captured.isoformat()
    assert item["timestamp"] == image.ts and item["camera"] == image.camera
    assert [(label["name"], label["confidence"]) for label in item["labels"]] == sorted(
        image.labels.items(), key=lambda pair: (-pair[1], pair[0]))
    assert httpx.get(item["url"], timeout=10).content == body


def test_image_pagination_is_stable_under_inserts(api):
    params = api.mine(limit=5)
    first = api.ok("/images", params)
    newer = Img(f"alarms/{CAMERAS[0]}/new/{RUN}.jpg", CAMERAS[0],
                (NOW + timedelta(minutes=1)).astimezone(LA), {"Plant": 60.0})
    asyncio.run(produce(api.env["KAFKA_BOOTSTRAP_SERVERS"], api.topic,
                        [encode_event(event(newer))]))
    wait_for(lambda: api.get(f"/images/{newer.key}").status_code == 200)
    rest = all_pages(api, "/images", {**params, "cursor": first["next_cursor"]})
    keys = [item["object_key"] for item in first["items"] + rest]
    assert keys == newest_first(api.images)
    api.images.append(newer)  # later tests see it too
    assert api.ok("/images", params)["items"][0]["object_key"] == newer.key


def test_a_cursor_is_refused_under_other_filters(api):
    first = api.ok("/images", {"camera": CAMERAS[0], "label": "Person", "limit": 2})
    cursor = first["next_cursor"]
    other = api.get("/images", {"camera": CAMERAS[1], "label": "Person", "cursor": cursor})
    assert other.status_code == 422 and "other filters" in other.json()["detail"]
    assert api.get("/images", {"camera": CAMERAS[0], "cursor": cursor}).status_code == 422
    # The same filters in another order, and another page size, page on.
    page = api.ok("/images", {"label": "Person", "camera": CAMERAS[0], "cursor": cursor,
                              "limit": 3})
    assert page["items"] and not {i["object_key"] for i in page["items"]} & {
        i["object_key"] for i in first["items"]}
    queue = api.ok("/review-queue", {"camera": CAMERAS[0], "limit": 2})["next_cursor"]
    refused = api.get("/review-queue", {"camera": CAMERAS[0], "label": TAGS[0],
                                        "cursor": queue})
    assert refused.status_code == 422 and "other filters" in refused.json()["detail"]


def test_image_detail_and_unknown_key(api):
    image = api.images[7]
    body = api.ok(f"/images/{image.key}")
    assert body["object_key"] == image.key and body["bucket"] == "security-alarms"
    assert body["detectors"] == [DETECTOR]
    assert {label["detector"] for label in body["labels"]} == {DETECTOR}
    assert {label["name"]: label["confidence"] for label in body["labels"]} == image.labels
    reviews = sorted((r["label"], r["present"], r["reviewer"]) for r in body["reviews"])
    assert reviews == api.reviews_of(image.key)  # none, unless a verdicts test ran first
    missing = api.get(f"/images/alarms/nothing/{RUN}.jpg")
    assert missing.status_code == 404 and RUN in missing.json()["detail"]


def as_json(boxes: list[Box]) -> list[dict[str, float]]:
    return [dict(zip(("left", "top", "width", "height", "confidence"), box, strict=True))
            for box in boxes]


def boxes_of(item: dict[str, Any]) -> dict[tuple[str | None, str], list[dict[str, float]]]:
    return {(label["detector"], label["name"]): label["boxes"] for label in item["labels"]}


def test_each_detectors_boxes_come_with_its_labels_wherever_labels_are_listed(api):
    expected = ({(detector, BOXED): as_json(boxes) for detector, boxes in BOXES.items()}
                | {(detector, UNBOXED): [] for detector in BOXES})
    detail = api.ok(f"/images/{BOX_KEY}")
    [item] = [item for item in api.ok("/images", {"camera": BOX_CAMERA})["items"]
              if item["object_key"] == BOX_KEY]
    # AWS flags the label at 90 and SSD does not: the image is queued as a disagreement.
    [queued] = api.ok("/review-queue", {"label": BOXED, "camera": BOX_CAMERA, "limit": 1})[
        "items"]
    assert queued["object_key"] == BOX_KEY and queued["reason"] == "disagreement"
    for body in (detail, item, queued):
        assert boxes_of(body) == expected
    [ssd_only] = [item for item in api.ok("/images", {"camera": BOX_CAMERA, "detector": SSD})[
        "items"] if item["object_key"] == BOX_KEY]
    assert boxes_of(ssd_only) == {key: boxes for key, boxes in expected.items()
                                  if key[0] == SSD}


SPOIL = """
MATCH (image:Image {object_key: $object_key})-[edge:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label
SET edge.boxes = $boxes
RETURN count(edge) AS edges
"""


def test_a_detector_that_found_nothing_is_listed_with_no_labels(api):
    spoilt = [f"Spoilt{RUN}-{index}" for index in range(len(SPOILT_BOXES))]
    expected = [{"detector": DETECTOR, "labels": spoilt}, {"detector": HOG, "labels": []}]
    assert api.ok(f"/images/{SPOILT_KEY}")["by_detector"] == expected
    [item] = [item for item in api.ok("/images", {"camera": BOX_CAMERA})["items"]
              if item["object_key"] == SPOILT_KEY]
    assert item["by_detector"] == expected
    [only] = [item for item in api.ok("/images", {"camera": BOX_CAMERA, "detector": HOG})[
        "items"]]
    assert only["object_key"] == SPOILT_KEY and only["by_detector"] == expected[1:]
    boxed = api.ok(f"/images/{BOX_KEY}")["by_detector"]
    assert boxed == [{"detector": DETECTOR, "labels": [BOXED, UNBOXED]},
                     {"detector": SSD, "labels": [BOXED, UNBOXED]}]


def test_stored_boxes_that_are_no_boxes_are_dropped_not_served(api):
    with GraphDatabase.driver(api.env["NEO4J_URI"], auth=(
            api.env["NEO4J_USER"], api.env["NEO4J_PASSWORD"])) as driver:
        for index, (stored, _) in enumerate(SPOILT_BOXES):
            records, _, _ = driver.execute_query(
                SPOIL, object_key=SPOILT_KEY, label=f"Spoilt{RUN}-{index}", boxes=stored,
                database_=api.env["NEO4J_DATABASE"])
            assert records[0]["edges"] == 1
    expected = {(DETECTOR, f"Spoilt{RUN}-{index}"): as_json(served)
                for index, (_, served) in enumerate(SPOILT_BOXES)}
    assert boxes_of(api.ok(f"/images/{SPOILT_KEY}")) == expected
    [item] = [item for item in api.ok("/images", {"camera": BOX_CAMERA})["items"]
              if item["object_key"] == SPOILT_KEY]
    assert boxes_of(item) == expected
    queue = api.ok("/review-queue", {"label": f"Spoilt{RUN}-0", "camera": BOX_CAMERA})
    assert [boxes_of(item) for item in queue["items"]
            if item["object_key"] == SPOILT_KEY] == [expected]


def test_empty_image_search(api):
    assert api.ok("/images", api.mine(until="2000-01-01T00:00:00Z")) == {
        "items": [], "next_cursor": None, "unknown_labels": []}


# --- rollups -------------------------------------------------------------------------


# What a rollup key answers of an image (camera-local): a bucket keeps its calendar identity
# unless the key asks for one part across the calendar.
ROLLUP_FIELDS: dict[str, Any] = {
    "camera": lambda i: {"camera": i.camera},
    "year": lambda i: {"year": i.captured.year},
    "month": lambda i: {"year": i.captured.year, "month": i.captured.month},
    "day": lambda i: {"date": i.captured.date().isoformat()},
    "hour": lambda i: {"date": i.captured.date().isoformat(), "hour": i.captured.hour},
    "month_of_year": lambda i: {"month_of_year": i.captured.month},
    "day_of_month": lambda i: {"day_of_month": i.captured.day},
    "hour_of_day": lambda i: {"hour_of_day": i.captured.hour},
}
ORDER = ("camera", "year", "month", "date", "hour", "month_of_year", "day_of_month",
         "hour_of_day")


def expected_rollup(images: list[Img], by: list[str]) -> list[dict[str, Any]]:
    def bucket(image: Img) -> tuple[tuple[str, Any], ...]:
        fields = {name: value for key in by for name, value in ROLLUP_FIELDS[key](image).items()}
        return tuple(sorted(fields.items(), key=lambda item: ORDER.index(item[0])))

    counts = Counter(bucket(image) for image in images)
    return [{**dict(key), "images": n} for key, n in sorted(counts.items())]


@pytest.mark.parametrize("by", [["year", "month"], ["month"], ["month_of_year"],
                                ["hour", "camera"], ["hour_of_day", "camera"], ["day"],
                                ["day_of_month"]])
def test_rollups_by_calendar_buckets(api, by):
    body = api.ok("/rollups", api.mine(by=by))
    assert body == {"by": by, "rows": expected_rollup(api.images, by), "unknown_labels": []}


def test_rollups_by_month_tell_november_2016_from_november_2017(api):
    rows = api.ok("/rollups", api.mine(by="month"))["rows"]
    assert {"year": 2016, "month": 11, "images": 10} in rows
    assert {"year": 2017, "month": 11, "images": 10} in rows
    assert {"month_of_year": 11, "images": 20} in api.ok(
        "/rollups", api.mine(by="month_of_year"))["rows"]
    assert all("date" in row and "hour" in row
               for row in api.ok("/rollups", api.mine(by="hour"))["rows"])


def test_rollup_keys_come_repeated_or_separated_by_commas(api):
    separated = api.ok("/rollups", api.mine(by="year,month"))
    assert separated == api.ok("/rollups", api.mine(by=["year", "month"]))
    assert separated["by"] == ["year", "month"]
    assert api.ok("/rollups", api.mine(by=["camera,year", "month_of_year"]))["rows"] == \
        expected_rollup(api.images, ["camera", "year", "month_of_year"])


def test_rollups_of_a_label_above_a_confidence_for_one_camera(api):
    body = api.ok("/rollups", {"by": ["year", "month"], "camera": CAMERAS[2],
                               "label": "Person", "min_confidence": 90})
    scoped = [image for image in api.images if image.camera == CAMERAS[2]
              and (image.person() or -1) >= 90]
    assert body["rows"] == expected_rollup(scoped, ["year", "month"]) and scoped
    assert api.ok("/rollups", {"by": "year", "camera": CAMERAS[2],
                               "until": "2000-01-01T00:00:00Z"})["rows"] == []


# --- verdicts, accuracy and the review queue ------------------------------------------


def confusion(pairs: list[tuple[bool, float | None]], threshold: float) -> dict[str, Any]:
    tp = sum(1 for truth, c in pairs if truth and c is not None and c >= threshold)
    fp = sum(1 for truth, c in pairs if not truth and c is not None and c >= threshold)
    fn = sum(1 for truth, c in pairs if truth and (c is None or c < threshold))
    tn = len(pairs) - tp - fp - fn
    return {"threshold": threshold, "true_positives": tp, "false_positives": fp,
            "false_negatives": fn, "true_negatives": tn,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "false_negative_rate": fn / (tp + fn) if tp + fn else None}


def counted(point: dict[str, Any]) -> dict[str, Any]:
    """A confusion's counts and rates, without its intervals (stats.py's tests) and
    calibrated probability (test_api_calibration_and_sample.py)."""
    return {name: value for name, value in point.items()
            if name not in ("recall_interval", "precision_interval", "calibrated")}


def test_accuracy_with_no_verdicts_is_empty_not_an_error(api):
    body = api.ok("/accuracy", {"camera": BOX_CAMERA, "label": TAGS[0]})
    assert body["reviewed"] == 0
    assert counted(body["at_threshold"]) == confusion([], 90)
    assert len(body["curve"]) == 21


def test_verdicts_accuracy_curve_and_review_queue(api):
    # Reviewers judge the first 20 images: truth is Person unless the key's index is odd
    # and the detector saw nobody (so some absent persons are real misses).
    judged = api.images[:20]
    truth = {image.key: image.person() is not None or index % 2 == 1
             for index, image in enumerate(judged)}
    for image in judged:
        response = api.put("/verdicts", {"object_key": image.key, "present": not truth[
            image.key], "reviewer": "ann"})
        assert response.status_code == 200, response.text
    before = api.ok(f"/images/{judged[0].key}")["labels"]
    for image in judged:  # change of mind: the later verdict wins
        body = api.put("/verdicts", {"object_key": image.key, "label": "Person",
                                     "present": truth[image.key], "reviewer": "bob"}).json()
        assert body["present"] == truth[image.key] and body["reviewer"] == "bob"
        assert abs((parse(body["reviewed_at"]) - datetime.now(UTC)).total_seconds()) < 60
    detail = api.ok(f"/images/{judged[0].key}")
    assert [(r["label"], r["present"], r["reviewer"]) for r in detail["reviews"]] == [
        ("Person", truth[judged[0].key], "bob")]
    assert detail["labels"] == before  # the detector's HAS_LABEL is untouched

    pairs = [(truth[image.key], image.person()) for image in judged]
    body = api.ok("/accuracy", api.mine(threshold=90, step=10))
    assert body["reviewed"] == 20 and body["label"] == "Person"
    assert counted(body["at_threshold"]) == confusion(pairs, 90)
    assert [counted(point) for point in body["curve"]] == [
        confusion(pairs, float(t)) for t in range(0, 101, 10)]
    assert body["at_threshold"]["false_negatives"] > 0
    assert [{**row, "at_threshold": counted(row["at_threshold"])}
            for row in body["per_camera"]] == [
        {"camera": camera, "reviewed": sum(1 for i in judged if i.camera == camera),
         "at_threshold": confusion([(truth[i.key], i.person()) for i in judged
                                    if i.camera == camera], 90)}
        for camera in sorted(CAMERAS)]

    one_camera = [(truth[i.key], i.person()) for i in judged if i.camera == CAMERAS[0]]
    body = api.ok("/accuracy", {"camera": CAMERAS[0], "threshold": 50})
    assert counted(body["at_threshold"]) == confusion(one_camera, 50)
    assert api.ok("/accuracy", api.mine(detector=SSD))["reviewed"] == 0

    queue = all_pages(api, "/review-queue", api.mine(limit=7))
    unjudged = [image for image in api.images if image.key not in truth]
    order = sorted(unjudged, key=lambda i: (-(i.person() or -1), i.ts, i.key), reverse=True)
    assert [item["object_key"] for item in queue] == [image.key for image in order]
    assert [item["label_confidence"] for item in queue] == [i.person() for i in order]
    assert queue[0]["label_confidence"] is None  # images without the label come first

    # Back over the judged images: newest first, each with the verdict it holds now.
    reviewed = all_pages(api, "/reviewed", api.mine(limit=7))
    newest = sorted(judged, key=lambda i: (i.ts, i.key), reverse=True)
    assert [(item["object_key"], item["present"]) for item in reviewed] == [
        (image.key, truth[image.key]) for image in newest]


def test_verdict_on_an_unknown_image_or_with_a_bad_body(api):
    response = api.put("/verdicts", {"object_key": f"nothing/{RUN}", "present": True,
                                     "reviewer": "ann"})
    assert response.status_code == 404
    for body in ({"object_key": api.images[0].key, "present": True},
                 {"object_key": api.images[0].key, "present": "perhaps", "reviewer": "a"},
                 {"object_key": "", "present": True, "reviewer": "a"}):
        assert api.put("/verdicts", body).status_code == 422


# --- behaviour: auth, bad parameters, docs, health, metrics -----------------------------


@pytest.mark.parametrize("key", [None, "wrong", KEY + "x"])
def test_every_data_route_requires_a_configured_key(api, key):
    for path in ("/cameras", "/labels", "/sightings", "/confidence-histogram", "/images",
                 f"/images/{api.images[0].key}", "/rollups?by=year", "/accuracy",
                 "/review-queue"):
        assert api.get(path, key=key).status_code == 401, path
    assert httpx.put(f"{api.url}/verdicts", json={}, timeout=10).status_code == 401
    assert api.get("/cameras", key="other-key").status_code == 200


def test_health_ready_docs_and_metrics_are_open(api):
    assert api.get("/health", key=None).json() == {"status": "ok"}
    assert api.get("/ready", key=None).json() == {"status": "ok"}
    assert "X-API-Key" in api.get("/openapi.json", key=None).text
    assert api.get("/docs", key=None).status_code == 200
    metrics = api.get("/metrics", key=None).text
    assert 'labelgraph_api_request_seconds_count{method="GET",route="/cameras"' in metrics


@pytest.mark.parametrize(("path", "params"), [
    ("/images", {"since": "2016-11-05T07:15:30"}),  # no offset
    ("/images", {"since": "yesterday"}),
    ("/images", {"since": "2017-01-01T00:00:00Z", "until": "2016-01-01T00:00:00Z"}),
    ("/images", {"limit": 0}),
    ("/images", {"limit": 501}),
    ("/images", {"min_confidence": 50}),  # a range needs a label
    ("/images", {"label": "Person", "min_confidence": 101}),
    ("/images", {"cursor": "not-a-cursor"}),
    ("/images", {"cursor": "WyJhIiwgMV0="}),  # valid base64 json, wrong shape
    ("/sightings", {"label": ""}),
    ("/sightings", {"until": "0001-01-01T01:00:00+00:00"}),  # no room for the 2 h default
    ("/sightings", {"min_confidence": -1}),
    ("/confidence-histogram", {"bucket_width": 0}),
    ("/confidence-histogram", {"threshold": 101}),
    ("/labels", {"offset": -1}),
    ("/rollups", {}),
    ("/rollups", {"by": "week"}),
    ("/rollups", {"by": ["year", "year"]}),
    ("/rollups", {"by": "year,year"}),
    ("/rollups", {"by": "year,"}),
    ("/rollups", {"by": "year", "min_confidence": 50}),  # a confidence needs a label
    ("/accuracy", {"threshold": 100.5}),
    ("/accuracy", {"step": 0}),
    ("/review-queue", {"cursor": "WzEsIDIsIDNd"}),
])
def test_bad_parameters_get_a_clear_422(api, path, params):
    response = api.get(path, params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


# --- schema-driven fuzz ----------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


def value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly values of the schema's type (in and out of range), sometimes any text."""
    if "anyOf" in schema:
        return st.one_of([value_for(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if "enum" in schema:
        typed: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "integer":
        typed = st.integers(-2, 2_000_000)
    elif kind == "number":
        typed = st.floats(-1e6, 1e6) | st.sampled_from([0, 0.001, 50, 99.99, 100, 100.01])
    elif kind == "string" and schema.get("format") == "date-time":
        typed = st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    elif kind == "array":
        return st.lists(value_for(schema["items"]), max_size=3)
    elif kind == "null":
        return st.nothing()
    else:
        typed = TEXT
    return st.one_of(typed, TEXT)


# Verdict bodies of any shape, on keys no image has (the fuzz must not change real data).
VERDICT_BODIES = st.fixed_dictionaries({}, optional={
    "object_key": TEXT.map(lambda text: f"fuzz/{RUN}/{text}") | st.integers(),
    "label": TEXT | st.none(), "present": st.booleans() | TEXT, "reviewer": TEXT,
}) | st.lists(TEXT, max_size=2)


def get_operations(openapi: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(path, spec.get("parameters", [])) for path, item in openapi["paths"].items()
            for method, spec in item.items() if method == "get"]


def test_fuzzing_every_get_route_from_the_openapi_document_finds_no_5xx(api):
    operations = get_operations(api.ok("/openapi.json"))
    assert len(operations) >= 10
    failures: list[str] = []

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def probe(data: st.DataObject) -> None:
        path, parameters = data.draw(st.sampled_from(operations))
        params, url_path = {}, path
        for parameter in parameters:
            if parameter["in"] == "path":
                value = data.draw(TEXT.filter(bool) | st.sampled_from([api.images[0].key]))
                url_path = url_path.replace("{" + parameter["name"] + "}",
                                            quote(value, safe="/"))
            elif parameter["in"] == "query" and data.draw(st.booleans()):
                params[parameter["name"]] = data.draw(value_for(parameter["schema"]))
        response = api.get(url_path, params)
        if response.status_code >= 500:
            failures.append(f"{url_path} {params} -> {response.status_code} {response.text}")

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(VERDICT_BODIES)
    def probe_verdicts(body: Any) -> None:
        response = api.put("/verdicts", body)
        if response.status_code >= 500:
            failures.append(f"PUT /verdicts {body} -> {response.status_code} {response.text}")

    for _ in range(len(operations)):
        probe()
    probe_verdicts()
    assert not failures, "\n".join(failures[:5])
