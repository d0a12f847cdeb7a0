"""Helpers for the graph-writer's tests through the real stack (as fixtures: tests import
nothing from here)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from secrets import token_hex
from typing import Any, Self

import pytest
from aiokafka import ConsumerRecord
from neo4j import Driver, GraphDatabase
from prometheus_client import REGISTRY

from labelgraph_contract import (
    BoundingBox,
    DetectedLabel,
    ImageLabeled,
    LabelInstance,
    encode_event,
)
from labelgraph_devstack import graph as devgraph
from labelgraph_devstack import kafka as devkafka
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port, free_ports
from labelgraph_devstack.process import ManagedProcess, Spawner
from labelgraph_devstack.testing import (
    CAPTURED,
    LABELED_AT,
    Message,
    ServiceThread,
    create_topics,
    labelled_event,
    produce,
    read_until,
)
from labelgraph_graph_writer.bootstrap import serve
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.tallies import ImageFacts


def make_event(camera: str, index: int, labels: dict[str, float], *, minutes: int = 0,
               detector: str = "aws-rekognition", etag: str = "etag",
               captured: datetime | None = None, key: str | None = None) -> ImageLabeled:
    """An event for image `index` of `camera`, labelled `minutes` after LABELED_AT, each
    label with one boxed instance."""
    captured = captured or CAPTURED + timedelta(hours=index * 7)
    key = key or f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/img_{index}.jpg"
    boxed = [DetectedLabel(name=name, confidence=conf, instances=[LabelInstance(
        bounding_box=BoundingBox(**BOX), confidence=conf)]) for name, conf in labels.items()]
    return labelled_event(key, boxed, camera=camera, captured=captured, detector=detector,
                          labeled_at=LABELED_AT + timedelta(minutes=minutes), etag=etag)


BOX = {"left": 0.125, "top": 0.0625, "width": 0.5, "height": 0.25}


def stream(cameras: list[str], images: int) -> list[ImageLabeled]:
    """`images` first labellings, plus a later, different labelling of every fifth image."""
    rng = random.Random(11)
    names = [f"L{uuid.uuid4().hex[:6]}" for _ in range(30)]
    events = []
    for index in range(images):
        camera = cameras[index % len(cameras)]
        picked = {name: round(rng.uniform(50, 99), 3) for name in rng.sample(names, 4)}
        events.append(make_event(camera, index, picked))
        if index % 5 == 0:
            relabelled = {name: 77.0 for name in rng.sample(names, 3)}
            events.append(make_event(camera, index, relabelled, minutes=30, etag="again"))
    return events


def expected_graph(events: Iterable[ImageLabeled],
                   excluded: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """The graph the issue asks for, computed independently of the writer's code."""
    newest: dict[tuple[str, str], ImageLabeled] = {}
    for event in events:
        slot = (event.object_key, event.detector)
        if event.camera in excluded:
            continue
        if slot not in newest or (event.labeled_at, event.event_id) > (
                newest[slot].labeled_at, newest[slot].event_id):
            newest[slot] = event
    per_image: dict[str, ImageLabeled] = {}
    for event in newest.values():
        held = per_image.get(event.object_key)
        if held is None or (event.labeled_at, event.event_id) > (held.labeled_at, held.event_id):
            per_image[event.object_key] = event
    images, links, labels = [], [], []
    for key, event in per_image.items():
        at = event.captured_at
        images.append((key, event.camera, event.event_ts, at.isoformat(), event.event_ts,
                       event.bucket, event.labeled_at.isoformat()))
        links += [(key, "HAS_TIMESTAMP", event.capture_date.isoformat()),
                  (key, "HAS_YEAR", at.year), (key, "HAS_MONTH", at.month),
                  (key, "HAS_DAY", at.day), (key, "HAS_HOUR", at.hour)]
    for event in newest.values():
        labels += [(event.object_key, label.name, label.confidence, event.detector,
                    event.model_version, event.event_id, event.labeled_at.isoformat(),
                    [[i.bounding_box.left, i.bounding_box.top, i.bounding_box.width,
                      i.bounding_box.height, round(i.confidence, 4)] for i in label.instances])
                   for label in event.labels]
    return {"images": sorted(images, key=repr), "links": sorted(links, key=repr),
            "labels": sorted(labels, key=repr)}


TALLY_CAPTURES = (datetime(2016, 11, 30, 23, 30, 5, tzinfo=timezone(timedelta(hours=-8))),
                  datetime(2016, 12, 1, 0, 10, 0, tzinfo=timezone(timedelta(hours=-8))),
                  datetime(2017, 1, 15, 7, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30))))
TALLY_CONFIDENCES = (0.0, 49.5, 89.0, 89.999, 90.0, 99.99, 100.0)


def random_history(rng: random.Random, cameras: list[str], labels: list[str],
                   images: int = 12) -> list[ImageLabeled]:
    """Labellings of `images` images by two detectors: relabels that drop, add and change
    labels, move the capture time (across dates, months and an offset of +05:30), ties of
    labelling time broken by event id, replays of earlier events; shuffled."""
    events = []
    for index in range(images):
        camera, key = cameras[index % len(cameras)], f"tally/{uuid.uuid4().hex}.jpg"
        for _ in range(rng.randint(1, 4)):
            picked = rng.sample(labels, rng.randint(0, len(labels)))
            events.append(labelled_event(
                key, {name: rng.choice(TALLY_CONFIDENCES) for name in picked}, camera=camera,
                captured=rng.choice(TALLY_CAPTURES), detector=rng.choice(["det-a", "det-b"]),
                labeled_at=LABELED_AT + timedelta(minutes=rng.randint(0, 3)),
                event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4))))
    events += rng.sample(events, len(events) // 3)
    rng.shuffle(events)
    return events


def expected_facts(events: Iterable[ImageLabeled]) -> list[ImageFacts]:
    """What each image's tallies count after `events`, computed independently of the
    writer: the newest labelling per image and detector, the capture time of the newest."""
    def newer(event: ImageLabeled, than: ImageLabeled | None) -> bool:
        return than is None or (event.labeled_at, event.event_id) > (than.labeled_at,
                                                                       than.event_id)
    newest: dict[tuple[str, str], ImageLabeled] = {}
    for event in events:
        if newer(event, newest.get((event.object_key, event.detector))):
            newest[(event.object_key, event.detector)] = event
    per_image: dict[str, list[ImageLabeled]] = {}
    for event in newest.values():
        per_image.setdefault(event.object_key, []).append(event)
    facts = []
    for held in per_image.values():
        last = max(held, key=lambda event: (event.labeled_at, event.event_id))
        facts.append(ImageFacts(last.camera, last.captured_at.isoformat(),
                                tuple(sorted(event.detector for event in held)),
                                {event.detector: {label.name: label.confidence
                                                  for label in event.labels}
                                 for event in held}))
    return facts


SNAPSHOT_IMAGES = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})
OPTIONAL MATCH (camera:Camera)-[has_image:HAS_IMAGE]->(image)
RETURN key, camera.camera_name AS camera, has_image.timestamp AS edge_ts,
       image.isodate AS isodate, image.timestamp AS ts, image.bucket AS bucket,
       image.labeled_at AS labeled_at
"""
SNAPSHOT_LINKS = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})-[link]->(node)
WHERE type(link) <> 'HAS_LABEL'
RETURN key, type(link) AS type,
       coalesce(node.iso_date, node.year_value, node.month_value, node.day_value,
                node.hour_value) AS value
"""
SNAPSHOT_LABELS = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})-[has:HAS_LABEL]->(label:Label)
RETURN key, label.label_name AS name, has.confidence AS confidence, has.detector AS detector,
       has.model_version AS model_version, has.event_id AS event_id,
       has.labeled_at AS labeled_at, has.boxes AS boxes
"""


@dataclass
class Kit:
    """The shared stack seen from one graph-writer test."""

    env: dict[str, str]
    driver: Driver
    groups: list[str] = field(default_factory=list)

    def query(self, text: str, **parameters: Any) -> list[dict[str, Any]]:
        with self.driver.session(database=self.env["NEO4J_DATABASE"]) as session:
            return session.run(text, parameters).data()

    def snapshot(self, keys: Iterable[str]) -> dict[str, list[Any]]:
        """The part of the graph hanging off these images, in expected_graph's shape."""
        keys = sorted(set(keys))
        images = [tuple(row.values()) for row in self.query(SNAPSHOT_IMAGES, keys=keys)]
        links = [tuple(row.values()) for row in self.query(SNAPSHOT_LINKS, keys=keys)]
        labels = [(*list(row.values())[:-1], json.loads(row["boxes"]))
                  for row in self.query(SNAPSHOT_LABELS, keys=keys)]
        return {"images": sorted(images, key=repr), "links": sorted(links, key=repr),
                "labels": sorted(labels, key=repr)}

    def fresh_topic(self, partitions: int = 3) -> str:
        name = f"gw-test-{uuid.uuid4().hex[:10]}"
        self.provision(name, partitions)
        return name

    def provision(self, topic: str, partitions: int = 3) -> None:
        """The topic and its dead-letter topic, as provisioning makes them: no client of
        labelgraph lets the broker create a topic."""
        self.create_topics([topic], partitions)
        self.create_topics([f"{topic}.dlq"], 1)

    def create_topics(self, names: list[str], partitions: int = 3) -> None:
        asyncio.run(create_topics(self.env["KAFKA_BOOTSTRAP_SERVERS"], names, partitions))

    def produce(self, topic: str, items: Iterable[ImageLabeled | tuple[bytes, bytes | None]]
                ) -> None:
        """Send events (encoded as the labeler does) or raw (key, value) pairs, in order."""
        records = [encode_event(item) if isinstance(item, ImageLabeled) else Message(*item)
                   for item in items]
        asyncio.run(produce(self.env["KAFKA_BOOTSTRAP_SERVERS"], topic, records))

    def read_topic(self, topic: str, count: int, timeout: float = 20) -> list[ConsumerRecord]:
        """The topic's first `count` records (fails if fewer come within timeout)."""
        return asyncio.run(read_until(self.env["KAFKA_BOOTSTRAP_SERVERS"], topic,
                                      lambda records: len(records) >= count, timeout))

    def settings(self, topic: str, **overrides: Any) -> GraphWriterSettings:
        group = f"gw-test-{uuid.uuid4().hex[:10]}"
        values: dict[str, Any] = dict(
            kafka_bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"],
            neo4j_uri=self.env["NEO4J_URI"], neo4j_user=self.env["NEO4J_USER"],
            neo4j_password=self.env["NEO4J_PASSWORD"],
            neo4j_database=self.env["NEO4J_DATABASE"], label_topic=topic,
            label_dlq_topic=f"{topic}.dlq", consumer_group=group,
            session_timeout_ms=2000, heartbeat_interval_ms=500, ops_port=free_port(),
            retry_initial_seconds=0.2, retry_max_seconds=1.0)
        return GraphWriterSettings(**(values | overrides))

    def process_env(self, topic: str, **overrides: str) -> dict[str, str]:
        """Environment of a graph-writer subprocess on `topic` with a consumer group of its own."""
        return self.env | {
            "LABEL_TOPIC": topic, "LABEL_DLQ_TOPIC": f"{topic}.dlq",
            "GRAPH_WRITER_CONSUMER_GROUP": f"gw-test-{uuid.uuid4().hex[:10]}",
            "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
            "GRAPH_WRITER_OPS_PORT": str(free_port()), "GRAPH_WRITER_RETRY_MAX_SECONDS": "1",
        } | overrides


@contextmanager
def _kit(env: dict[str, str]) -> Iterator[Kit]:
    driver = GraphDatabase.driver(env["NEO4J_URI"], auth=(env["NEO4J_USER"],
                                                          env["NEO4J_PASSWORD"]))
    try:
        yield Kit(env, driver)
    finally:
        driver.close()


@pytest.fixture
def kit(stack: Any) -> Iterator[Kit]:
    with _kit(stack.env) as made:
        yield made


class PrivateServers:
    """A Tansu broker and an ArcadeDB of one test's own, to stop and start at will.

    Started like the session stack's (devstack's specs and Spawner); the graph keeps its
    data directory and ports across restarts, the broker (memory only) comes back empty.
    """

    def __init__(self, root: Path, names: tuple[str, ...]) -> None:
        kafka_port, bolt_port, http_port = free_ports(3)
        self.access = devgraph.GraphAccess(bolt_port, http_port, token_hex(8), token_hex(8))
        self.specs = {"kafka": devkafka.tansu(kafka_port, root),
                      "graph": devgraph.arcadedb(self.access, root / "arcadedb")}
        self.root = root
        self.pids: list[int] = []  # every server process ever started, to check none is left
        self._spawner: Spawner | None = Spawner()
        self._running: dict[str, ManagedProcess] = {}
        for name in names:
            self.start(name)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """`base` with the servers of this instance in place of the session's."""
        env = dict(base)
        if "kafka" in self._running:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.specs["kafka"].url
        if "graph" in self._running:
            env |= {"NEO4J_URI": self.access.bolt_uri, "NEO4J_PASSWORD": self.access.password}
        return env

    def start(self, name: str) -> None:
        spec = self.specs[name]
        assert self._spawner is not None, "the servers are closed"
        process = ManagedProcess(self._spawner.popen(
            spec.argv, env={**os.environ, **spec.env}, cwd=self.root,
            log=self.root / f"{name}.log"))
        self._running[name] = process
        self.pids.append(process.pid)
        wait_for(lambda: process.exit_code() is None and spec.ready(), timeout=60,
                 interval=0.1)

    def stop(self, name: str) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after 10 s."""
        self._running.pop(name).stop(10)

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def close(self) -> None:
        """Stop every server; safe to call again."""
        for name in list(self._running):
            self.stop(name)
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None


@contextmanager
def _private(tmp_path: Path, names: tuple[str, ...]) -> Iterator[PrivateServers]:
    servers = PrivateServers(tmp_path, names)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def private_kit(stack: Any, tmp_path: Path) -> Iterator[Kit]:
    """The session's broker with a graph server of this test's own, for destructive tests."""
    with _private(tmp_path, ("graph",)) as servers, _kit(servers.env(stack.env)) as made:
        yield made


@pytest.fixture
def private_broker(stack: Any, tmp_path: Path) -> Iterator[tuple[Kit, PrivateServers]]:
    """The session's graph with a broker of this test's own, to stop and restart."""
    with _private(tmp_path, ("kafka",)) as servers, _kit(servers.env(stack.env)) as made:
        yield made, servers


@pytest.fixture
def private_servers(stack: Any, tmp_path: Path) -> Iterator[tuple[Kit, PrivateServers]]:
    """A broker and a graph of this test's own, to stop and restart."""
    with _private(tmp_path, ("kafka", "graph")) as servers, \
            _kit(servers.env(stack.env)) as made:
        yield made, servers


def processed_events() -> float:
    """Every message the in-process writers have finished with, whatever the outcome."""
    values = [REGISTRY.get_sample_value("graph_writer_events_total", {"outcome": outcome})
              for outcome in ("written", "stale", "excluded")]
    values += [REGISTRY.get_sample_value("graph_writer_dead_letters_total", {"cause": cause})
               for cause in ("invalid", "graph")]
    return sum(value or 0.0 for value in values)


class WriterThread(ServiceThread):
    """The real service (consumer, graph, ops server) in a thread, stopped like by SIGTERM."""

    def __init__(self, settings: GraphWriterSettings) -> None:
        super().__init__(self._serve_writer, "the writer")
        self.settings = settings
        self.ops_url = f"http://127.0.0.1:{settings.ops_port}"

    async def _serve_writer(self, stop: asyncio.Event, started: Callable[[], None]) -> None:
        started()  # at once: readiness is what the tests look at, through the ops server
        await serve(self.settings, stop)

    def __enter__(self) -> Self:
        self._baseline = processed_events()
        return super().__enter__()

    def process(self, total: int, timeout: float = 60) -> None:
        """Wait until this writer has finished with `total` messages since it started."""
        target = self._baseline + total
        wait_for(lambda: self.alive() and processed_events() >= target, timeout)


@pytest.fixture
def writer_thread() -> type[WriterThread]:
    return WriterThread


@pytest.fixture
def helpers() -> Any:
    """Plain helper functions, handed to tests as one namespace."""
    class Helpers:
        make_event = staticmethod(make_event)
        stream = staticmethod(stream)
        expected_graph = staticmethod(expected_graph)
        wait_for = staticmethod(wait_for)
        processed_events = staticmethod(processed_events)
        random_history = staticmethod(random_history)
        expected_facts = staticmethod(expected_facts)
    return Helpers
