"""Reviewers' verdicts survive any rebuild: the verdict table is their system of record.

The module runs its own stack (it drops the whole graph), the real graph-writer and api,
and compares what /accuracy, /review-queue and /images/{key} answer before and after a
`graph-writer rebuild`, after the graph is dropped entirely, and after the Review nodes
alone are lost and `restore-verdicts` brings them back.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import GraphDatabase

from labelgraph_api import queries
from labelgraph_api.domain import review_key
from labelgraph_contract import DetectedLabel, ImageLabeled, captured_fields, labelling_event_id
from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, publish_events

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
TOPIC = f"verdicts-{RUN}"
NOW = datetime.now(UTC).replace(microsecond=0)
PERSON = (None, 99.5, 40.0, None, 91.0, 12.5)  # confidences, cycled; None: no Person label
IMAGES = [(f"alarms/cam{index % 3}/{RUN}_{index:02d}.jpg", f"cam{index % 3}",
           NOW - timedelta(minutes=5 * index), PERSON[index % len(PERSON)])
          for index in range(24)]
JUDGED = IMAGES[:14]


def _event(key: str, camera: str, captured: datetime, person: float | None) -> ImageLabeled:
    identity = dict(bucket="security-alarms", object_key=key, image_etag="etag",
                    detector="aws-rekognition", model_version="3.0")
    labels = [DetectedLabel(name="Plant", confidence=80.0)]
    if person is not None:
        labels.append(DetectedLabel(name="Person", confidence=person))
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera=camera,
        **captured_fields(captured), labeled_at=NOW, labels=labels))


class Deployment:
    """One stack, its graph-writer and api, and the commands an operator would run."""

    def __init__(self, stack: EmbeddedStack, logs: Path) -> None:
        self.stack = stack
        self.env = {**stack.env, "LABEL_TOPIC": TOPIC, "API_INSECURE_NO_AUTH": "true",
                    "GRAPH_WRITER_CONSUMER_GROUP": f"writer-{RUN}",
                    "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000",
                    "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500"}
        self.logs = logs
        self.api = ServiceProcesses(self.env, logs / "api")
        self.writer = ServiceProcesses(self.env, logs / "writer")

    def get(self, path: str, params: Any = None) -> Any:
        response = httpx.get(f"{self.api.api_url}{path}", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def judge(self, key: str, present: bool, reviewer: str) -> None:
        response = httpx.put(f"{self.api.api_url}/verdicts", timeout=30, json={
            "object_key": key, "present": present, "reviewer": reviewer})
        assert response.status_code == 200, response.text

    def images_served(self) -> int:
        return sum(row["images"] for row in self.get("/cameras"))

    def run(self, *command: str) -> str:
        # A port of its own for the rebuild's ops server: the default one may be taken.
        env = {**os.environ, **self.env, "GRAPH_WRITER_OPS_PORT": str(free_port())}
        done = subprocess.run([sys.executable, "-m", *command], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def rebuild(self) -> None:
        self.run("labelgraph_graph_writer", "rebuild", "--yes", "--idle-seconds", "3")
        wait_for(lambda: self.images_served() == len(IMAGES), timeout=60)

    def cypher(self, statement: str, **parameters: Any) -> None:
        auth = (self.env["NEO4J_USER"], self.env["NEO4J_PASSWORD"])
        with GraphDatabase.driver(self.env["NEO4J_URI"], auth=auth) as driver:
            driver.execute_query(statement, parameters, database_=self.env["NEO4J_DATABASE"])

    def answers(self) -> dict[str, Any]:
        """Everything the verdicts shape, as the api answers it."""
        queue, cursor = [], None
        while True:
            page = self.get("/review-queue", {"limit": 4, **({"cursor": cursor} if cursor
                                                              else {})})
            queue += [(item["object_key"], item["label_confidence"]) for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        return {"accuracy": self.get("/accuracy", {"threshold": 90, "step": 10}),
                "queue": queue,
                "images": {key: self._image(key) for key, *_ in JUDGED}}

    def _image(self, key: str) -> dict[str, Any]:
        # The presigned URL is signed anew on every call; all else must match exactly.
        return {name: value for name, value in self.get(f"/images/{key}").items()
                if name != "url"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with EmbeddedStack(tmp_path_factory.mktemp("verdict-stack")) as stack:
        asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], TOPIC,
                                   [_event(*image) for image in IMAGES], partitions=3))
        deployment = Deployment(stack, tmp_path_factory.mktemp("verdict-logs"))
        try:
            deployment.writer.start(names=("graph-writer",))
            deployment.api.start(names=("api",))
            wait_for(lambda: deployment.images_served() == len(IMAGES), timeout=60)
            for index, (key, *_) in enumerate(JUDGED):
                deployment.judge(key, present=index % 2 == 0, reviewer="ann")
            for index, (key, *_) in enumerate(JUDGED[:5]):  # a change of mind: later wins
                deployment.judge(key, present=index % 2 == 1, reviewer="bob")
            yield deployment
        finally:
            deployment.writer.__exit__(None, None, None)
            deployment.api.__exit__(None, None, None)


@pytest.fixture(scope="module")
def before(deployment: Deployment) -> dict[str, Any]:
    answers = deployment.answers()
    assert answers["accuracy"]["reviewed"] == len(JUDGED)
    assert len(answers["queue"]) == len(IMAGES) - len(JUDGED)
    assert [r["reviewer"] for r in answers["images"][JUDGED[0][0]]["reviews"]] == ["bob"]
    return answers


def test_every_verdict_is_in_the_verdict_table(deployment: Deployment, before: Any) -> None:
    dynamodb = aws_client(deployment.env, "dynamodb")
    items = dynamodb.scan(TableName=deployment.env["VERDICT_TABLE"])["Items"]
    stored = {(item["object_key"]["S"], item["label"]["S"]): (
        item["present"]["BOOL"], item["reviewer"]["S"]) for item in items}
    expected = {(key, "Person"): (index % 2 == 1 if index < 5 else index % 2 == 0,
                                  "bob" if index < 5 else "ann")
                for index, (key, *_) in enumerate(JUDGED)}
    assert stored == expected


def test_a_rebuild_keeps_every_verdict(deployment: Deployment, before: Any) -> None:
    deployment.writer.stop()
    deployment.rebuild()
    assert deployment.answers() == before


def test_a_lost_graph_gets_every_verdict_back_at_the_api_start(
        deployment: Deployment, before: Any) -> None:
    deployment.writer.stop()
    deployment.cypher("MATCH (n) DETACH DELETE n")
    deployment.rebuild()
    assert deployment.get("/accuracy")["reviewed"] == 0  # the graph alone knows nothing now
    deployment.api.stop()
    deployment.api.start(names=("api",))
    wait_for(lambda: deployment.get("/accuracy")["reviewed"] == len(JUDGED), timeout=30)
    assert deployment.answers() == before


def test_restore_verdicts_projects_the_table_again(deployment: Deployment, before: Any) -> None:
    deployment.cypher("MATCH (review:Review) DETACH DELETE review")
    assert deployment.get("/accuracy")["reviewed"] == 0
    assert deployment.run("labelgraph_api", "restore-verdicts").splitlines()[-1] == (
        f"restore-verdicts: {len(JUDGED)} verdicts")
    assert deployment.answers() == before


def test_an_older_projection_never_overwrites_a_newer_verdict(
        deployment: Deployment, before: Any) -> None:
    key = JUDGED[0][0]
    [current] = deployment.get(f"/images/{key}")["reviews"]
    stale = {"object_key": key, "label": "Person", "present": not current["present"],
             "reviewer": "late", "reviewed_at": "2000-01-01T00:00:00+00:00",
             "review_key": review_key(key, "Person")}
    deployment.cypher(queries.PROJECT_VERDICTS, verdicts=[stale])
    assert deployment.get(f"/images/{key}")["reviews"] == [current]


def test_adopt_copies_verdicts_only_the_graph_holds(deployment: Deployment, before: Any) -> None:
    # A graph from before the verdict table: its Review hangs off the image by an edge.
    key = IMAGES[-1][0]
    deployment.cypher(
        "MATCH (image:Image {object_key: $key}) "
        "CREATE (:Review {review_key: $review_key, object_key: $key, label_name: 'Person', "
        "present: true, reviewer: 'old', reviewed_at: '2026-01-01T00:00:00+00:00'})"
        "-[:OF]->(image)", key=key, review_key=review_key(key, "Person"))
    assert deployment.run("labelgraph_api", "adopt-graph-verdicts").splitlines()[-1] == (
        "adopt-graph-verdicts: 1 verdicts")
    item = aws_client(deployment.env, "dynamodb").get_item(
        TableName=deployment.env["VERDICT_TABLE"],
        Key={"object_key": {"S": key}, "label": {"S": "Person"}})["Item"]
    assert (item["reviewer"]["S"], item["present"]["BOOL"]) == ("old", True)
