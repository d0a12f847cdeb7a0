"""Nothing acknowledged is lost: the durable stack's every server (ministack, dynalite, Tansu,
ArcadeDB, the Rekognition stub) and the three services SIGKILLed at once, mid-upload (the
importer importing a folder) and mid-review (verdicts being recorded), then started again
on the same folder, as a camera owner's machine after a power cut.

Issue 23's before/after table, redone: S3 objects, verdicts, graph images and cameras, and
label rows per detector, counted at the kill and once the restarted stack has settled;
then every acknowledged upload is labelled by every detector, every accepted verdict is
there, the graph equals the table, and nothing is there twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import neo4j
import pytest

from labelgraph_contract import label_table_name
from labelgraph_demo.loading import provision_detectors
from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.clients import aws_client
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import draw_scene
from labelgraph_labeler.rows import is_marker

pytestmark = pytest.mark.stack

# The stand-in (the Rekognition stub) and a real model, as `make run` names its stand-in.
DETECTORS = {"stand-in": "aws-rekognition", "hog": "opencv-hog"}
CAMERA = "yard"
STILLS = 30
UPLOADS_BEFORE_KILL = 8
VERDICTS_BEFORE_KILL = 6
JUDGED_LABELS = ("Person", "Car")
STAND_IN_LABELS = [{"Name": name, "Confidence": confidence, "Parents": []}
                   for name, confidence in (("Person", 91.0), ("Car", 70.0))]
IMPORTED_LINE = re.compile(r"^imported\s+.* -> (\S+) \(time from")
SETTLE_SECONDS = 150


@dataclass
class Census:
    """What each store holds, read at one moment; lists where a duplicate could show."""

    objects: set[str]
    verdicts: dict[tuple[str, str], tuple[bool, str]]
    graph_images: list[str]
    cameras: list[str]
    camera_links: list[str]
    reviews: list[str]
    table_rows: dict[str, set[tuple[str, str]]]  # detector -> (object key, label)
    table_images: dict[str, set[str]]
    graph_edges: dict[str, list[tuple[str, str]]]
    graph_labelled: dict[str, set[str]]  # detector -> images whose node names it

    def line(self) -> dict[str, int]:
        """Issue 23's table row by row."""
        return {"S3 objects": len(self.objects), "verdicts": len(self.verdicts),
                "graph images": len(self.graph_images), "graph cameras": len(self.cameras),
                **{f"label rows {name}": len(rows) for name, rows in self.table_rows.items()}}

    def graph_equals_table(self) -> bool:
        return all(set(self.graph_edges[name]) == self.table_rows[name]
                   and self.graph_labelled[name] == self.table_images[name]
                   for name in DETECTORS)

    def settled(self, images: set[str]) -> bool:
        """Every image labelled by every detector, in the table and the graph alike."""
        return (all(self.table_images[name] == images for name in DETECTORS)
                and self.graph_equals_table())


@dataclass
class Site:
    """A camera owner's machine: the durable stack and the three services on one folder."""

    root: Path
    stack: EmbeddedStack | None = None
    services: ServiceProcesses | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> Site:
        self.stack = EmbeddedStack(self.root / "devstack", durable=True).start()
        self.env = {**self.stack.env, "API_INSECURE_NO_AUTH": "true",
                    "LABELER_DETECTORS": ",".join(f"{n}={k}" for n, k in DETECTORS.items()),
                    "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000",
                    "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500", "PYTHONUNBUFFERED": "1",
                    # One image at a time, as on a small machine: uploads outpace labelling,
                    # so the kill finds notifications waiting.
                    "LABELER_CONCURRENCY": "1"}
        provision_detectors(self.env)
        # The stub forgets its rules at each stop; the start's reconcile asks it at once.
        httpx.put(f"{self.env['REKOGNITION_STUB_URL']}/_stub/rules", timeout=10, json={
            "model_version": "stand-in-1", "default": {"labels": STAND_IN_LABELS},
            "rules": []}).raise_for_status()
        self.services = ServiceProcesses(self.env, self.root / "logs")
        self.services.start()
        return self

    @property
    def api(self) -> str:
        assert self.services is not None
        return self.services.api_url

    def kill(self, *clients: subprocess.Popen[str]) -> Census:
        """SIGKILL the services and clients, count what the stores hold at that moment, then
        SIGKILL every server: what the labeler had not finished dies with the queue."""
        assert self.stack is not None and self.services is not None
        stack, services = self.stack, self.services
        _kill_groups(process.pid for process in services.processes.values())
        for client in clients:
            client.kill()
        wait_for(lambda: all(p.exit_code() is not None for p in services.processes.values()),
                 10, what="every service dead")
        at_the_kill = self.census()
        _kill_groups(stack.pids.values())
        wait_for(lambda: len(stack.exited()) == len(stack.pids), 10, what="every server dead")
        services.close()
        stack.stop()
        return at_the_kill

    def close(self) -> None:
        if self.services is not None:
            self.services.close()
        if self.stack is not None:
            self.stack.stop()

    def census(self) -> Census:
        env = self.env
        s3, dynamodb = aws_client(env, "s3"), aws_client(env, "dynamodb")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=env["IMAGE_BUCKET"],
                                                              Prefix="alarms/")
        objects = {item["Key"] for page in pages for item in page.get("Contents", [])}
        tables = {name: _scan(dynamodb, label_table_name(env["LABEL_TABLE"], name))
                  for name in DETECTORS}
        verdicts = {(row["object_key"]["S"], row["label"]["S"]):
                    (row["present"]["BOOL"], row["reviewer"]["S"])
                    for row in _scan(dynamodb, env["VERDICT_TABLE"])}
        with neo4j.GraphDatabase.driver(env["NEO4J_URI"],
                                        auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])) as db:
            def column(cypher: str) -> list[Any]:
                return [record[0] for record in db.execute_query(cypher).records]

            images = db.execute_query("MATCH (i:Image) RETURN i.object_key, i.detectors").records
            edges = db.execute_query("MATCH (i:Image)-[r:HAS_LABEL]->(l:Label) "
                                     "RETURN r.detector, i.object_key, l.label_name").records
            cameras = column("MATCH (c:Camera) RETURN c.camera_name")
            links = column("MATCH (:Camera)-[:HAS_IMAGE]->(i:Image) RETURN i.object_key")
            reviews = column("MATCH (r:Review) RETURN r.review_key")
        return Census(
            objects=objects, verdicts=verdicts, graph_images=[r[0] for r in images],
            cameras=cameras, camera_links=links, reviews=reviews,
            table_rows={name: {(row["object_key"]["S"], row["label"]["S"]) for row in rows
                               if not _is_marker(row)} for name, rows in tables.items()},
            table_images={name: {row["object_key"]["S"] for row in rows}
                          for name, rows in tables.items()},
            graph_edges={name: [(key, label) for detector, key, label in edges
                                if detector == name] for name in DETECTORS},
            graph_labelled={name: {key for key, held in images if name in (held or [])}
                            for name in DETECTORS})

    def settle(self, images: set[str]) -> Census:
        """Wait until every image is labelled by every detector and graphed."""
        assert self.services is not None
        services = self.services
        found: list[Census] = []

        def settled() -> bool:
            services.raise_if_exited()
            found[:] = [self.census()]
            return found[0].settled(images)

        wait_for(settled, SETTLE_SECONDS, interval=1, what="every image labelled and graphed")
        return found[0]


def _kill_groups(pids: Iterable[int]) -> None:
    for pid in pids:
        os.killpg(pid, signal.SIGKILL)


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def _is_marker(item: dict[str, Any]) -> bool:
    """An image's zero-label row, read from DynamoDB's typed item."""
    return is_marker({"label": item["label"]["S"], **({"confidence": 0} if "confidence" in item
                                                      else {})})


def _write_stills(folder: Path) -> None:
    """A camera's stills named as cameras name them, stamped in the last hours on its clock:
    within the days a starting labeler reconciles."""
    folder.mkdir()
    now = datetime.now(ZoneInfo("America/Los_Angeles")).replace(microsecond=0)
    for n in range(STILLS):
        stamp = now - timedelta(minutes=3 * n + 1)
        (folder / f"{CAMERA}_{stamp:%Y%m%d-%H%M%S}.jpg").write_bytes(
            draw_scene(n % 2 == 0, seed=f"chaos-{n}"))


def _importer(env: dict[str, str], folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "labelgraph_importer", "--camera", CAMERA,
                             "--verbose", str(folder)], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _acknowledged_uploads(importer: subprocess.Popen[str], count: int) -> list[str]:
    """The keys the importer said it stored, read until `count` of them."""
    assert importer.stdout is not None
    keys: list[str] = []
    for line in importer.stdout:
        found = IMPORTED_LINE.match(line)
        if found:
            keys.append(found.group(1))
            if len(keys) == count:
                return keys
    raise AssertionError(f"the importer ended after {len(keys)} imports")


class Reviewer(threading.Thread):
    """Records verdicts through the api, one after another, until it stops answering;
    `accepted` holds each verdict the api answered 2xx."""

    def __init__(self, api: str, keys: list[str]) -> None:
        super().__init__(daemon=True)
        self.api, self.keys = api, keys
        self.accepted: dict[tuple[str, str], tuple[bool, str]] = {}

    def run(self) -> None:
        with httpx.Client(base_url=self.api, timeout=10) as client:
            for n, (key, label) in enumerate(self._judgements()):
                verdict = {"object_key": key, "label": label, "present": n % 3 != 0,
                           "reviewer": f"owner-{n}"}
                try:
                    response = client.put("/verdicts", json=verdict)
                except httpx.TransportError:
                    return  # the api died
                if response.is_success:
                    self.accepted[(key, label)] = (verdict["present"], verdict["reviewer"])

    def _judgements(self) -> Iterator[tuple[str, str]]:
        for key in self.keys:
            for label in JUDGED_LABELS:
                yield key, label


def _table(before: Census, after: Census) -> str:
    rows = [f"| {name} | {count} | {after.line()[name]} |" for name, count in before.line().items()]
    return "\n".join(["| | at the SIGKILL | after the restart |", "|---|---:|---:|", *rows])


def _assert_nothing_lost_or_doubled(before: Census, after: Census, stored: set[str],
                                    accepted: dict[tuple[str, str], tuple[bool, str]]) -> None:
    table = _table(before, after)
    print(table)
    for name, count in before.line().items():
        assert after.line()[name] >= count, f"{name} lost:\n{table}"
    assert before.objects <= after.objects
    assert after.objects == stored
    for name in DETECTORS:
        assert after.table_images[name] == stored, name
        assert before.table_rows[name] <= after.table_rows[name], name
    assert after.graph_equals_table()
    assert sorted(after.graph_images) == sorted(stored)  # each image once
    assert sorted(after.camera_links) == sorted(stored)
    assert after.cameras == [CAMERA]
    for name in DETECTORS:
        doubled = [edge for edge, n in Counter(after.graph_edges[name]).items() if n > 1]
        assert not doubled, (name, doubled)
    assert accepted.items() <= after.verdicts.items()
    assert before.verdicts.keys() <= after.verdicts.keys()
    assert sorted(after.reviews) == sorted(set(after.reviews))
    assert len(after.reviews) == len(after.verdicts)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = Site(tmp_path)
    try:
        yield site
    finally:
        site.close()


def test_a_sigkill_of_everything_mid_upload_and_mid_review_loses_and_doubles_nothing(
    site: Site, tmp_path: Path
) -> None:
    stills = tmp_path / "stills"
    _write_stills(stills)

    # Mid-upload: the importer, the labeler and the graph-writer killed at work.
    site.start()
    importer = _importer(site.env, stills)
    acknowledged = _acknowledged_uploads(importer, UPLOADS_BEFORE_KILL)
    at_upload_kill = site.kill(importer)

    site.start()
    # The owner imports the folder again: what is in is skipped, the rest goes in.
    assert _importer(site.env, stills).wait(60) == 0
    stored = site.census().objects
    assert set(acknowledged) <= stored and len(stored) == STILLS
    settled = site.settle(stored)
    _assert_nothing_lost_or_doubled(at_upload_kill, settled, stored, {})

    # Mid-review: verdicts recorded one after another when everything is killed.
    reviewer = Reviewer(site.api, sorted(stored))
    reviewer.start()
    wait_for(lambda: len(reviewer.accepted) >= VERDICTS_BEFORE_KILL, 60,
             interval=0.02, what="verdicts accepted")
    at_review_kill = site.kill()
    reviewer.join(30)
    accepted = dict(reviewer.accepted)
    assert len(accepted) < STILLS * len(JUDGED_LABELS)  # killed mid-review, not after

    site.start()
    site.settle(stored)
    wait_for(lambda: len(site.census().reviews) >= len(accepted), 30,
             what="verdicts projected into the graph again")
    _assert_nothing_lost_or_doubled(at_review_kill, site.census(), stored, accepted)
