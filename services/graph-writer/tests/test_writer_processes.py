"""The graph-writer as a real process: SIGKILLs mid-stream, three writers at once, `schema`
and `rebuild`."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid

import httpx
import pytest
from neo4j.exceptions import ConstraintError
from prometheus_client.parser import text_string_to_metric_families

from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_graph_writer.bootstrap import recount
from labelgraph_graph_writer.recount import Scope

pytestmark = pytest.mark.stack

COMMAND = [sys.executable, "-m", "labelgraph_graph_writer"]


def test_sigkill_at_random_points_loses_nothing_and_doubles_nothing(
        kit, helpers, tmp_path):
    cameras = [f"kill{uuid.uuid4().hex[:6]}" for _ in range(3)]
    events = helpers.stream(cameras, 2500)
    keys = [event.object_key for event in events]
    topic = kit.fresh_topic()
    kit.produce(topic, events)
    env = kit.process_env(topic, GRAPH_WRITER_BATCH_SIZE="50",
                          GRAPH_WRITER_TALLY_SETTLE_SECONDS="0",  # folds killed midway too
                          GRAPH_WRITER_TALLY_FOLD_SECONDS="0.5")
    written = "MATCH (c:Camera)-[:HAS_IMAGE]->(i:Image) WHERE c.camera_name IN $cameras " \
              "RETURN count(i) AS n"

    def images_written() -> int:
        return int(kit.query(written, cameras=cameras)[0]["n"])

    # Printed (pytest shows it with a failure) so that a failing run can be run again.
    seed = int(os.environ.get("GRAPH_WRITER_KILL_SEED") or random.randrange(2**32))
    print(f"kill points from seed {seed}: GRAPH_WRITER_KILL_SEED={seed} repeats them")
    services = ServiceProcesses(kit.env, tmp_path / "logs", extra_env=env)
    try:
        for threshold in sorted(random.Random(seed).sample(range(100, 2000), 3)):
            services.start(names=("graph-writer",))
            helpers.wait_for(lambda t=threshold: services.running() and images_written() >= t,
                             timeout=120)
            os.kill(services.processes["graph-writer"].pid, signal.SIGKILL)
            services.stop()
        unwritten = len(set(keys)) - images_written()
        services.start(names=("graph-writer",))
        expected = helpers.expected_graph(events)
        helpers.wait_for(lambda: services.running() and kit.snapshot(keys) == expected,
                         timeout=180, interval=1)
        ops = f"http://127.0.0.1:{env['GRAPH_WRITER_OPS_PORT']}"
        helpers.wait_for(lambda: http_ok(f"{ops}/health"), timeout=60)
        # The last process wrote what the kills left: its counters say so.
        metrics = _samples(httpx.get(f"{ops}/metrics").text)
        assert metrics["graph_writer_batches_total"] >= 1
        assert metrics["graph_writer_events_total"] >= unwritten > 0
    finally:
        services.stop()
    assert kit.snapshot(keys) == expected
    settings = kit.settings(topic)
    assert [asyncio.run(recount(settings, Scope(camera))) for camera in cameras] == [[]] * 3


def _samples(exposition: str) -> dict[str, float]:
    """Each sample's value summed over its labels, by sample name."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0) + sample.value
    return totals


def test_schema_creates_constraints_and_index_idempotently(kit):
    env = os.environ | kit.env
    for _ in range(2):
        done = subprocess.run([*COMMAND, "schema"], env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
    constraints = {row["name"] for row in kit.query("SHOW CONSTRAINTS")}
    assert {"camera_name", "image_object_key", "label_name", "iso_date", "year_value",
            "month_value", "day_value", "hour_value"} <= constraints
    assert "image_timestamp" in {row["name"] for row in kit.query("SHOW INDEXES")}
    name = f"cam{uuid.uuid4().hex[:6]}"
    kit.query("CREATE (:Camera {camera_name: $name})", name=name)
    with pytest.raises(ConstraintError):
        kit.query("CREATE (:Camera {camera_name: $name})", name=name)


def test_rebuild_asks_first_then_wipes_and_rewrites_the_whole_topic(
        private_kit, writer_thread, helpers):
    kit = private_kit
    events = helpers.stream([f"rb{uuid.uuid4().hex[:6]}"], 60)
    topic = kit.fresh_topic()
    kit.produce(topic, events)
    env = os.environ | kit.process_env(topic)
    # The service's group has already consumed the topic: rebuild must start over anyway.
    settings = kit.settings(topic, consumer_group=env["GRAPH_WRITER_CONSUMER_GROUP"])
    with writer_thread(settings) as writer:
        writer.process(len(events))
    kit.query("CREATE (:Image {object_key: 'stray'})-[:HAS_LABEL]->(:Label {label_name: 'x'})")
    # As a graph counted before the images several detectors labelled were: the rebuild
    # gives it the flag.
    kit.query("MATCH (state:TallyState) REMOVE state.counts_several")

    refused = subprocess.run([*COMMAND, "rebuild"], env=env, input=b"no\n",
                             capture_output=True, timeout=60)
    assert refused.returncode != 0
    assert kit.query("MATCH (i:Image {object_key: 'stray'}) RETURN count(i) AS n") == [{"n": 1}]

    done = subprocess.run([*COMMAND, "rebuild", "--yes", "--idle-seconds", "2"], env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(events)
    assert kit.query("MATCH (i:Image) RETURN count(i) AS n") == [{"n": 60}]
    assert kit.query("MATCH (l:Label {label_name: 'x'}) RETURN count(l) AS n") == [{"n": 0}]
    assert asyncio.run(recount(settings, Scope())) == []  # the tallies rebuilt with the graph
    assert kit.query("MATCH (t:Tally) RETURN count(t) AS n") != [{"n": 0}]
    assert kit.query("MATCH (state:TallyState) RETURN state.counts_several AS several, "
                     "state.complete AS complete") == [{"several": True, "complete": True}]


def test_a_wrong_password_at_start_exits_at_once_with_one_clear_line(kit):
    env = os.environ | kit.process_env(kit.fresh_topic()) | {"NEO4J_PASSWORD": "not-the-one"}
    done = subprocess.run([*COMMAND, "run"], env=env, capture_output=True, timeout=60)
    # Permanent at start (the graph never accepted these credentials); only after it has
    # is an AuthError a restarting server, and waited out.
    assert done.returncode == 2, done.stdout.decode()[-2000:]
    assert b"the graph refused the credentials at start" in done.stdout
    assert b"Traceback" not in done.stdout + done.stderr
    assert kit.query("RETURN 1 AS ok") == [{"ok": 1}]  # the right password still works


def test_three_writers_at_once_keep_the_tallies_exact(kit, helpers, tmp_path):
    # Three cameras, one hour of one date each: every batch of every writer adds to the
    # same tally nodes (the date's, the month's, the labels' totals) at once.
    cameras = [f"three{uuid.uuid4().hex[:6]}" for _ in range(3)]
    events = helpers.stream(cameras, 300)
    topic = kit.fresh_topic(partitions=3)
    kit.produce(topic, events)
    group = f"gw-three-{uuid.uuid4().hex[:8]}"
    logs = [tmp_path / f"writer-{index}.log" for index in range(3)]
    writers = [subprocess.Popen(
        [*COMMAND, "run"], stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env=os.environ | kit.process_env(topic, GRAPH_WRITER_CONSUMER_GROUP=group,
                                         GRAPH_WRITER_BATCH_SIZE="20",
                                         # each writer also folds days while the others
                                         # write to them
                                         GRAPH_WRITER_TALLY_SETTLE_SECONDS="0",
                                         GRAPH_WRITER_TALLY_FOLD_SECONDS="0.2"))
        for log in logs]
    expected = helpers.expected_graph(events)
    keys = [event.object_key for event in events]
    folded = ("MATCH (t:Tally) WHERE t.level = 'day' AND t.camera IN $cameras "
              "AND t.folded = true RETURN count(t) AS n")
    try:
        # Until the writers have also folded one of these cameras' days (a fold round
        # folds every settled day of the shared graph, other tests' too: it may take a
        # while, and logs only when the round ends).
        helpers.wait_for(lambda: all(w.poll() is None for w in writers)
                         and kit.snapshot(keys) == expected
                         and kit.query(folded, cameras=cameras)[0]["n"] > 0,
                         timeout=240, interval=1)
    finally:
        for writer in writers:
            writer.send_signal(signal.SIGTERM)
        for writer in writers:
            writer.wait(timeout=60)
    text = "\n".join(log.read_text() for log in logs)
    print(text[-5000:])  # the conflicts the writers met, shown with a failure
    assert "consuming" in text and "dead-lettered" not in text  # the writers' own log lines
    settings = kit.settings(topic)
    for camera in cameras:
        assert asyncio.run(recount(settings, Scope(camera))) == []
