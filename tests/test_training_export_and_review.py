"""Issue 25 through the real servers: reviewed images exported for training (read back with
pycocotools and as Ultralytics' YOLO layout), and review at speed (bulk verdicts, undo,
every verdict's history from the verdict table).

The module writes its own images into the stack's S3 bucket, labels them through the real
graph-writer on a topic of its own, judges them through the real api, and computes every
expected count here from what it wrote.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import GraphDatabase
from pycocotools.coco import COCO

from labelgraph_contract import ImageLabeled, captured_fields, labelling_event_id
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, draw_scene, publish_events

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
KEY = f"key-{RUN}"
CAMERA, UNDO_CAMERA = f"export-{RUN}", f"undo-{RUN}"
NOW = datetime.now(UTC).replace(microsecond=0)
REKOGNITION, SSD = "aws-rekognition", "ssd-mobilenet-v2-coco"
Box = tuple[float, float, float, float, float]  # left, top, width, height, confidence
# Positives: each detector's Person boxes; the export takes the most confident detector's.
POSITIVES: dict[str, dict[str, list[Box]]] = {
    f"alarms/{CAMERA}/{RUN}/p{index}.jpg": {
        REKOGNITION: [(0.1, 0.2, 0.25, 0.5, 95.0 - index)] * (index + 1),
        SSD: [(0.5, 0.5, 0.2, 0.3, 60.0)]}
    for index in range(3)}
UNBOXED = f"alarms/{CAMERA}/{RUN}/unboxed.jpg"  # a person no detector located
NEGATIVES = [f"alarms/{CAMERA}/{RUN}/n{index}.jpg" for index in range(2)]
GONE = f"alarms/{CAMERA}/{RUN}/gone.jpg"  # judged, then deleted from S3
UNREVIEWED = [f"alarms/{CAMERA}/{RUN}/u{index}.jpg" for index in range(2)]
UNDO_KEYS = [f"alarms/{UNDO_CAMERA}/{RUN}/{index}.jpg" for index in range(3)]
WIDTH, HEIGHT = 320, 240  # draw_scene's


def _event(key: str, camera: str, detector: str, labels: list[dict[str, Any]]
           ) -> ImageLabeled:
    identity = dict(bucket=BUCKET[0], object_key=key, image_etag="etag", detector=detector,
                    model_version="1.0")
    captured = NOW - timedelta(minutes=10)
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera=camera,
        **captured_fields(captured), labeled_at=NOW, labels=labels))


def _person(boxes: list[Box]) -> dict[str, Any]:
    return {"name": "Person", "confidence": max(box[4] for box in boxes), "instances": [
        {"bounding_box": {"left": left, "top": top, "width": width, "height": height},
         "confidence": confidence} for left, top, width, height, confidence in boxes]}


BUCKET: list[str] = []  # the stack's image bucket, known once the stack runs


def events() -> list[ImageLabeled]:
    made = [_event(key, CAMERA, detector, [_person(boxes)])
            for key, by_detector in POSITIVES.items() for detector, boxes in by_detector.items()]
    made.append(_event(UNBOXED, CAMERA, REKOGNITION, [{"name": "Person", "confidence": 70.0}]))
    made += [_event(key, CAMERA, REKOGNITION, [{"name": "Plant", "confidence": 80.0}])
             for key in [*NEGATIVES, GONE, *UNREVIEWED]]
    made += [_event(key, UNDO_CAMERA, REKOGNITION, [{"name": "Plant", "confidence": 80.0}])
             for key in UNDO_KEYS]
    return made


class Api:
    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url, self.env = url, env

    def call(self, method: str, path: str, key: str | None = KEY, **kwargs: Any
             ) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def judge(self, key: str, present: bool, reviewer: str = "ann") -> dict[str, Any]:
        body = {"object_key": key, "present": present, "reviewer": reviewer}
        return dict(self.ok("PUT", "/verdicts", json=body))

    def export(self, form: str) -> tuple[httpx.Headers, zipfile.ZipFile]:
        with httpx.stream("GET", f"{self.url}/export", headers={"X-API-Key": KEY}, timeout=60,
                          params={"format": form, "camera": CAMERA}) as response:
            assert response.status_code == 200, response.read()
            archive = b"".join(response.iter_bytes())
        return response.headers, zipfile.ZipFile(io.BytesIO(archive))


@pytest.fixture(scope="module")
def api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    env = stack.env
    BUCKET[:] = [env["IMAGE_BUCKET"]]
    s3 = aws_client(env, "s3")
    for index, key in enumerate([*POSITIVES, UNBOXED, *NEGATIVES, *UNREVIEWED]):
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=key,
                      Body=draw_scene(key in POSITIVES or key == UNBOXED, f"{RUN}-{index}"))
    topic = f"export-test-{RUN}"
    asyncio.run(publish_events(env["KAFKA_BOOTSTRAP_SERVERS"], topic, events(), partitions=3))
    services = ServiceProcesses(env, tmp_path_factory.mktemp("export-logs"), extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"export-test-{RUN}",
        "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
        "API_KEYS": KEY})
    try:
        services.start(names=("graph-writer", "api"))
        api = Api(services.api_url, env)
        expected = {CAMERA: len(POSITIVES) + 4 + len(UNREVIEWED), UNDO_CAMERA: len(UNDO_KEYS)}
        wait_for(lambda: {row["camera"]: row["images"] for row in api.ok("GET", "/cameras")
                          if row["camera"] in expected} == expected
                 and all(len(api.ok("GET", f"/images/{key}")["detectors"]) == 2
                         for key in POSITIVES), timeout=60)
        yield api
    finally:
        services.__exit__(None, None, None)


@pytest.fixture(scope="module")
def judged(api: Api) -> Api:
    """Positives and the unboxed one judged one by one; the negatives in one bulk request."""
    for key in [*POSITIVES, UNBOXED]:
        api.judge(key, present=True)
    bulk = api.ok("PUT", "/verdicts/bulk", json={
        "object_keys": [*NEGATIVES, GONE], "present": False, "reviewer": "bob"})
    assert sorted(item["object_key"] for item in bulk["recorded"]) == sorted([*NEGATIVES, GONE])
    aws_client(api.env, "s3").delete_object(Bucket=BUCKET[0], Key=GONE)
    return api


# --- export --------------------------------------------------------------------------


def expected_boxes(key: str) -> list[Box]:
    """The most confident detector's boxes (rekognition's here, above 60)."""
    return POSITIVES[key][REKOGNITION]


def test_a_coco_export_reads_back_with_every_positive_and_negative(judged: Api,
                                                                   tmp_path: Path) -> None:
    headers, archive = judged.export("coco")
    assert (headers["X-Export-Images"], headers["X-Export-Positives"],
            headers["X-Export-Negatives"], headers["X-Export-Unboxed-Positives"]) == (
        str(len(POSITIVES) + len(NEGATIVES) + 1), str(len(POSITIVES)),
        str(len(NEGATIVES) + 1), "1")
    archive.extractall(tmp_path)
    coco = COCO(str(tmp_path / "annotations.json"))
    by_key = {image["object_key"]: image for image in coco.dataset["images"]}
    assert sorted(by_key) == sorted([*POSITIVES, *NEGATIVES])  # not GONE, UNBOXED, UNREVIEWED
    for key, image in by_key.items():
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        boxes = expected_boxes(key) if key in POSITIVES else []
        assert [annotation["bbox"] for annotation in annotations] == [
            [round(left * WIDTH, 2), round(top * HEIGHT, 2), round(width * WIDTH, 2),
             round(height * HEIGHT, 2)] for left, top, width, height, _ in boxes]
        assert image["verdict"] == ("present" if key in POSITIVES else "absent")
        assert (image["width"], image["height"]) == (WIDTH, HEIGHT)
        stored = aws_client(judged.env, "s3").get_object(Bucket=BUCKET[0], Key=key)
        assert (tmp_path / "images" / image["file_name"]).read_bytes() == stored["Body"].read()
    assert coco.loadCats(coco.getCatIds()) == [{"id": 1, "name": "Person",
                                                "supercategory": "none"}]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert (manifest["exported"], manifest["positives"], manifest["negatives"],
            manifest["skipped"]) == (len(POSITIVES) + len(NEGATIVES), len(POSITIVES),
                                     len(NEGATIVES), [GONE])


def test_a_yolo_export_has_ultralytics_layout_and_empty_labels_for_negatives(
        judged: Api, tmp_path: Path) -> None:
    _, archive = judged.export("yolo")
    archive.extractall(tmp_path)
    assert 'names:\n  0: "Person"\n' in (tmp_path / "data.yaml").read_text()
    images = sorted(path.stem for path in (tmp_path / "images").iterdir())
    labels = {path.stem: path.read_text() for path in (tmp_path / "labels").iterdir()}
    assert sorted(labels) == images and len(images) == len(POSITIVES) + len(NEGATIVES)
    lines = sorted(len(text.splitlines()) for text in labels.values())
    assert lines == sorted([0] * len(NEGATIVES) + [len(expected_boxes(key))
                                                   for key in POSITIVES])
    first = next(text for text in labels.values() if text).splitlines()[0].split()
    assert first[0] == "0" and [float(value) for value in first[1:]] == pytest.approx(
        [0.1 + 0.125, 0.2 + 0.25, 0.25, 0.5])


def test_the_export_needs_a_key(judged: Api) -> None:
    assert judged.call("GET", "/export", key=None).status_code == 401


def test_the_export_command_writes_a_folder_a_coco_reader_loads(judged: Api,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "set"
    done = subprocess.run(
        [sys.executable, "-m", "labelgraph_api", "export", "--out", str(out), "--camera",
         CAMERA], env={**os.environ, **judged.env}, capture_output=True, text=True,
        timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    coco = COCO(str(out / "annotations.json"))
    annotated = {annotation["image_id"] for annotation in coco.dataset["annotations"]}
    assert len(annotated) == len(POSITIVES)
    assert len(coco.getImgIds()) - len(annotated) == len(NEGATIVES)
    assert f"export: {len(POSITIVES) + len(NEGATIVES) + 1}/" in done.stderr


# --- review at speed ---------------------------------------------------------------


def test_bulk_verdicts_are_each_recorded_with_their_history(api: Api) -> None:
    unknown = f"alarms/{UNDO_CAMERA}/{RUN}/none.jpg"
    body = api.ok("PUT", "/verdicts/bulk", json={
        "object_keys": [*UNDO_KEYS, unknown], "label": "wind", "present": True,
        "reviewer": "cat"})
    assert body["unknown_object_keys"] == [unknown]
    assert sorted(item["object_key"] for item in body["recorded"]) == sorted(UNDO_KEYS)
    table = aws_client(api.env, "dynamodb")
    for key in UNDO_KEYS:
        item = table.get_item(TableName=api.env["VERDICT_TABLE"],
                              Key={"object_key": {"S": key}, "label": {"S": "wind"}})["Item"]
        assert [entry["M"]["reviewer"]["S"] for entry in item["history"]["L"]] == ["cat"]
        assert [(r["label"], r["reviewer"]) for r in api.ok("GET", f"/images/{key}")[
            "reviews"]] == [("wind", "cat")]
    too_many = {"object_keys": [f"k{index}" for index in range(51)], "present": True,
                "reviewer": "cat"}
    assert api.call("PUT", "/verdicts/bulk", json=too_many).status_code == 422


def test_undo_brings_back_the_previous_verdict_and_the_history_keeps_both(api: Api) -> None:
    key = UNDO_KEYS[0]
    first = api.judge(key, present=True, reviewer="ann")
    second = api.judge(key, present=False, reviewer="bob")

    def undo(verdict: dict[str, Any], by: str) -> httpx.Response:
        return api.call("POST", "/verdicts/undo", json={
            "object_key": key, "label": "Person", "reviewed_at": verdict["reviewed_at"],
            "reviewer": by})

    assert undo(first, "ann").status_code == 409  # a later verdict stands
    back = undo(second, "bob").json()
    assert (back["undone"]["reviewer"], back["in_force"]["reviewer"]) == ("bob", "ann")
    image = api.ok("GET", f"/images/{key}")
    assert [(r["label"], r["present"], r["reviewer"]) for r in image["reviews"]] == [
        ("Person", True, "ann"), ("wind", True, "cat")]
    person = [entry for entry in image["history"] if entry["label"] == "Person"]
    assert [(e["reviewer"], e["present"], e["undone_by"]) for e in person] == [
        ("bob", False, "bob"), ("ann", True, None)]  # newest first
    assert undo(first, "ann").json()["in_force"] is None
    assert undo(first, "ann").status_code == 200  # again: nothing more changes
    assert "Person" not in [r["label"] for r in api.ok("GET", f"/images/{key}")["reviews"]]
    queue = api.ok("GET", "/review-queue", params={"camera": UNDO_CAMERA, "limit": 10})
    assert key in [item["object_key"] for item in queue["items"]]  # unjudged again
    wrong_time = {**first, "reviewed_at": "2001-01-01T00:00:00+00:00"}
    assert undo(wrong_time, "ann").status_code == 404


def test_the_history_comes_from_the_table_when_the_graph_loses_its_reviews(api: Api) -> None:
    key = UNDO_KEYS[1]
    api.judge(key, present=True, reviewer="dan")
    before = api.ok("GET", f"/images/{key}")["history"]
    auth = (api.env["NEO4J_USER"], api.env["NEO4J_PASSWORD"])
    with GraphDatabase.driver(api.env["NEO4J_URI"], auth=auth) as driver:
        driver.execute_query("MATCH (review:Review {object_key: $key}) DETACH DELETE review",
                             {"key": key}, database_=api.env["NEO4J_DATABASE"])
    image = api.ok("GET", f"/images/{key}")
    assert image["reviews"] == [] and image["history"] == before
    assert [(e["label"], e["reviewer"]) for e in before] == [("Person", "dan"),
                                                             ("wind", "cat")]
