"""The api's answers stay bounded and closed: /ready within its timeout and without
internals, and no route broken by a stored value the api cannot convert.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from secrets import token_hex
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from neo4j import GraphDatabase

from labelgraph_devstack.graph import GraphAccess, arcadedb
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port
from labelgraph_devstack.process import ManagedProcess, Spawner

pytestmark = pytest.mark.stack

KEY = f"probe-key-{uuid.uuid4().hex[:8]}"
READY_TIMEOUT = 2.0


@contextmanager
def api_process(env: dict[str, str], log: Path, **settings: str) -> Iterator[str]:
    """The api as a real process; yields its URL once /health answers. Its log goes to `log`."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "labelgraph_api"],
                                   env={**os.environ, **env, "API_PORT": str(port),
                                        "API_KEYS": KEY, **settings},
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url, process, log), timeout=30)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _answers(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, log.read_text()
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_ready_says_graph_unreachable_and_logs_the_details(stack, tmp_path):
    closed = free_port()
    log = tmp_path / "api.log"
    with api_process(stack.env, log, NEO4J_URI=f"bolt://127.0.0.1:{closed}") as url:
        ready = httpx.get(f"{url}/ready", timeout=30)
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "graph unreachable"}
    lines = [line for line in log.read_text().splitlines() if "graph unreachable" in line]
    assert len(lines) == 1 and str(closed) in lines[0], lines


@pytest.fixture
def own_graph(tmp_path) -> Iterator[tuple[GraphAccess, ManagedProcess]]:
    """An ArcadeDB of this test's own (the session's must never be frozen)."""
    ports = [free_port() for _ in range(2)]
    access = GraphAccess(ports[0], ports[1], token_hex(8), token_hex(8))
    spec = arcadedb(access, tmp_path / "arcadedb")
    spawner = Spawner()
    server = ManagedProcess(spawner.popen(spec.argv, env=os.environ, cwd=tmp_path,
                                          log=tmp_path / "arcadedb.log"))
    try:
        wait_for(lambda: server.exit_code() is None and spec.ready(), timeout=60, interval=0.2)
        yield access, server
    finally:
        os.kill(server.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        server.stop(10)
        spawner.close()


def test_ready_answers_within_its_bound_while_the_graph_is_frozen(stack, own_graph, tmp_path):
    access, server = own_graph
    env = {**stack.env, "NEO4J_URI": access.bolt_uri, "NEO4J_PASSWORD": access.password}
    with api_process(env, tmp_path / "api.log",
                     API_READY_TIMEOUT_SECONDS=str(READY_TIMEOUT)) as url:
        wait_for(lambda: httpx.get(f"{url}/ready", timeout=10).status_code == 200, timeout=30)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            for _ in range(2):  # the second probe must not queue behind the first
                began = time.monotonic()
                ready = httpx.get(f"{url}/ready", timeout=READY_TIMEOUT + 10)
                took = time.monotonic() - began
                assert ready.status_code == 503, ready.text
                assert READY_TIMEOUT - 0.1 <= took < READY_TIMEOUT + 1.5, took
            assert httpx.get(f"{url}/health", timeout=1).status_code == 200
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # Thawed, the graph answers again and /ready says so.
        wait_for(lambda: httpx.get(f"{url}/ready", timeout=10).status_code == 200, timeout=30)


RUN = uuid.uuid4().hex[:8]
# Capture times at the ends of what a datetime holds: in UTC they fall outside it.
UNCONVERTIBLE = (
    ("9999-12-31T23:30:00-05:00", 253402317000, (9999, 12, 31, 23), "9999-12-31"),
    ("0001-01-01T00:30:00+14:00", -62135645400, (1, 1, 1, 0), "0001-01-01"),
)
WRITE_IMAGE = """
MERGE (camera:Camera {camera_name: $camera})
MERGE (label:Label {label_name: $label})
MERGE (iso:ISODate {iso_date: $iso_date})
MERGE (year:Year {year_value: $year})
MERGE (month:Month {month_value: $month})
MERGE (day:Day {day_value: $day})
MERGE (hour:Hour {hour_value: $hour})
CREATE (image:Image {object_key: $object_key})
SET image += $props
CREATE (camera)-[:HAS_IMAGE {timestamp: $props.timestamp}]->(image)
CREATE (image)-[:HAS_TIMESTAMP]->(iso)
CREATE (image)-[:HAS_YEAR]->(year)
CREATE (image)-[:HAS_MONTH]->(month)
CREATE (image)-[:HAS_DAY]->(day)
CREATE (image)-[:HAS_HOUR]->(hour)
CREATE (image)-[:HAS_LABEL {confidence: 97.0, detector: 'aws-rekognition',
                            model_version: '3.0', labeled_at: $props.labeled_at}]->(label)
"""
REMOVE = """
MATCH (n) WHERE n.object_key STARTS WITH $prefix OR n.camera_name = $camera
   OR n.label_name = $label
DETACH DELETE n
"""
# A graph holding images no tally counts says so, as the graph-writer marks one at its
# start; the api then reads the images. Restored afterwards (null: there was no marker).
MARK_UNCOUNTED = """
MERGE (state:TallyState {state_name: 'tallies'})
WITH state, state.complete AS was
SET state.complete = false
RETURN was
"""
RESTORE_MARK = "MATCH (state:TallyState {state_name: 'tallies'}) SET state.complete = $was"
DROP_MARK = "MATCH (state:TallyState {state_name: 'tallies'}) DELETE state"


@pytest.fixture
def unconvertible_images(stack) -> Iterator[dict[str, Any]]:
    """Images older writers stored, which today's contract refuses, written with Cypher."""
    env = stack.env
    scope = {"camera": f"edge-{RUN}", "label": f"Edge{RUN}", "prefix": f"alarms/edge-{RUN}/"}
    keys = [f"{scope['prefix']}{index}.jpg" for index in range(len(UNCONVERTIBLE))]
    with GraphDatabase.driver(env["NEO4J_URI"],
                              auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])) as driver:
        marked = driver.execute_query(MARK_UNCOUNTED, database_=env["NEO4J_DATABASE"])
        was = marked.records[0]["was"]
        for key, (isodate, timestamp, (year, month, day, hour), date) in zip(
                keys, UNCONVERTIBLE, strict=True):
            driver.execute_query(
                WRITE_IMAGE, camera=scope["camera"], label=scope["label"], iso_date=date,
                year=year, month=month, day=day, hour=hour, object_key=key,
                props={"isodate": isodate, "timestamp": timestamp, "bucket": "security-alarms",
                       "labeled_at": isodate, "detectors": ["aws-rekognition"],
                       "detector_versions": ["3.0"]},
                database_=env["NEO4J_DATABASE"])
        try:
            yield {**scope, "keys": keys}
        finally:
            driver.execute_query(REMOVE, **scope, database_=env["NEO4J_DATABASE"])
            driver.execute_query(DROP_MARK if was is None else RESTORE_MARK, was=was,
                                 database_=env["NEO4J_DATABASE"])


def test_stored_times_out_of_range_break_no_route(stack, unconvertible_images, tmp_path):
    camera, label = unconvertible_images["camera"], unconvertible_images["label"]
    mine = {"camera": camera, "label": label}
    with api_process(stack.env, tmp_path / "api.log") as url:
        def get(path: str, **params: Any) -> Any:
            response = httpx.get(f"{url}{path}", params=params, headers={"X-API-Key": KEY},
                                 timeout=30)
            assert response.status_code == 200, (path, response.status_code, response.text)
            return response.json()

        cameras = {row["camera"]: row for row in get("/cameras")}
        assert cameras[camera] == {"camera": camera, "images": 2, "first_at": None,
                                   "last_at": None}
        # The widest window an aware datetime spells: both images fall inside it.
        sightings = get("/sightings", **mine, since="0001-01-01T00:00:00+14:00",
                        until="9999-12-31T23:59:59-14:00", min_confidence=0)
        assert [(c["camera"], c["images"]) for c in sightings["cameras"]] == [(camera, 2)]
        page = get("/images", camera=camera)
        assert sorted(item["captured_at"] for item in page["items"]) == sorted(
            isodate for isodate, *_ in UNCONVERTIBLE)
        for key in unconvertible_images["keys"]:
            assert get(f"/images/{quote(key)}")["object_key"] == key
        assert get("/confidence-histogram", **mine)["images"] == 2
        assert get("/rollups", by="year", camera=camera)["rows"] == [
            {"year": 1, "images": 1}, {"year": 9999, "images": 1}]
        assert len(get("/review-queue", **mine)["items"]) == 2
        assert get("/accuracy", **mine)["reviewed"] == 0
        assert get("/labels", prefix=label)["items"] == [{"label": label, "images": 2}]
    assert "outside the datetime range" in (tmp_path / "api.log").read_text()
