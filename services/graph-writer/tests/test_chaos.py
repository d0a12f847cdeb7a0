"""The graph-writer as a process through everything at once: SIGKILLs of itself, a clean
restart of its graph database and a restart of its broker, which comes back empty.

The servers are this test's own (it restarts them). What it may honestly expect:
- the graph keeps every batch written before any failure (ArcadeDB keeps its data);
- Tansu keeps nothing: topics, messages and the group's offsets are gone with it. An
  operator provisions the topic again and publishes again what the graph must hold (the
  labeler's backfill does so from DynamoDB, the source of truth). The writer then reads
  the new topic from its beginning (there are no offsets to resume from), so what was
  published again is all written, and the graph ends exactly as the events say.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import uuid

import httpx
import pytest

from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_graph_writer.bootstrap import recount
from labelgraph_graph_writer.recount import Scope

pytestmark = pytest.mark.stack

IMAGES_WRITTEN = ("MATCH (c:Camera)-[:HAS_IMAGE]->(i:Image) WHERE c.camera_name IN $cameras "
                  "RETURN count(i) AS n")


def test_sigkills_a_clean_graph_restart_and_an_empty_broker_end_in_the_exact_graph(
        private_servers, helpers, tmp_path):
    kit, servers = private_servers
    cameras = [f"chaos{uuid.uuid4().hex[:6]}" for _ in range(3)]
    events = helpers.stream(cameras, 600)
    # Published only after the broker restart, first: newer labellings of images already
    # written and new images. Were the writer to resume at its old positions in the new
    # topic, it would skip them.
    later = [helpers.make_event(cameras[i % 3], i, {"Late": 88.0}, minutes=60, etag="late")
             for i in range(0, 600, 7)]
    later += [helpers.make_event(cameras[i % 3], i, {"New": 77.0}) for i in range(600, 650)]
    everything = events + later
    keys = [event.object_key for event in everything]
    topic = kit.fresh_topic()
    kit.produce(topic, events)
    env = kit.process_env(topic, GRAPH_WRITER_BATCH_SIZE="50")
    ops = f"http://127.0.0.1:{env['GRAPH_WRITER_OPS_PORT']}"
    writers = ServiceProcesses(kit.env, tmp_path / "logs", extra_env=env)
    pids: list[int] = []
    rng = random.Random()

    def start_writer() -> None:
        writers.start(names=("graph-writer",))
        pids.append(writers.processes["graph-writer"].pid)

    def sigkill_writer() -> None:
        os.kill(writers.processes["graph-writer"].pid, signal.SIGKILL)
        writers.stop()

    def written_at_least(count: int) -> None:
        helpers.wait_for(lambda: writers.running() and _images(kit, cameras) >= count,
                         timeout=120, interval=0.2)

    try:
        start_writer()
        written_at_least(rng.randint(60, 140))
        sigkill_writer()
        start_writer()
        written_at_least(rng.randint(180, 260))
        servers.restart("graph")  # SIGTERM: a clean shutdown, then the same data and port
        written_at_least(rng.randint(300, 380))
        sigkill_writer()
        start_writer()
        written_at_least(rng.randint(420, 500))
        servers.restart("kafka")  # empty
        kit.provision(topic)
        kit.produce(topic, later + events)

        expected = helpers.expected_graph(everything)
        try:
            helpers.wait_for(lambda: writers.running() and kit.snapshot(keys) == expected,
                             timeout=180, interval=1)
        except AssertionError:
            assert kit.snapshot(keys) == expected  # says how it differs
            raise
        helpers.wait_for(lambda: http_ok(f"{ops}/ready"), timeout=30)
        assert "graph_writer_dead_letters_total" in httpx.get(f"{ops}/metrics").text
        settings = kit.settings(topic)  # the tallies as exact as the edges
        assert [asyncio.run(recount(settings, Scope(camera))) for camera in cameras] == [[]] * 3
    finally:
        writers.stop()
        writers.__exit__()
        servers.close()

    log = (tmp_path / "logs" / "graph-writer.log").read_text()
    assert "dead-lettered" not in log
    lines = log.count("\n")
    assert lines < 200, f"{lines} log lines"  # about 50 measured
    for pid in pids + servers.pids:  # every process this test started is gone
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def _images(kit, cameras: list[str]) -> int:
    return int(kit.query(IMAGES_WRITTEN, cameras=cameras)[0]["n"])

