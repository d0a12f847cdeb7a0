"""The graph-writer in process while its broker (one of this test's own) stops and comes back
empty, as Tansu does: readiness tells the truth, logs stay quiet, nothing is lost."""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.stack

# The loggers whose lines flooded: aiokafka's, the driver's and the writer's own.
WATCHED = ("aiokafka", "neo4j", "labelgraph_graph_writer")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def not_ready_reason(ops_url: str) -> str | None:
    answer = httpx.get(f"{ops_url}/ready", timeout=10)
    return answer.json()["reason"] if answer.status_code == 503 else None


def is_ready(ops_url: str) -> bool:
    return httpx.get(f"{ops_url}/ready", timeout=10).status_code == 200


def lines_in(caplog: pytest.LogCaptureFixture, seconds: float) -> list[logging.LogRecord]:
    """What the watched loggers wrote during the next `seconds` (a rate, hence the sleep)."""
    caplog.clear()
    time.sleep(seconds)
    return [record for record in caplog.records if record.name.startswith(WATCHED)]


def test_a_broker_outage_makes_the_writer_not_ready_and_quiet_until_it_is_back(
        private_broker, writer_thread, helpers, caplog):
    kit, servers = private_broker
    camera = unique("cam")
    events = [helpers.make_event(camera, index, {unique("L"): 66.0}) for index in range(20)]
    topic = kit.fresh_topic()
    kit.produce(topic, events[:10])

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(10)
        helpers.wait_for(lambda: is_ready(writer.ops_url), timeout=15)
        servers.stop("kafka")
        reason = helpers.wait_for(lambda: not_ready_reason(writer.ops_url), timeout=15)
        assert "broker: Kafka broker unreachable" in reason
        down = lines_in(caplog, 3)
        assert len(down) <= 10, [record.getMessage() for record in down]

        servers.start("kafka")  # empty: no topic, no group, no offsets
        helpers.wait_for(lambda: "missing" in (not_ready_reason(writer.ops_url) or ""),
                         timeout=15)
        # Provisioned again and the lost events published again, as an operator would.
        kit.provision(topic)
        kit.produce(topic, events)
        writer.process(30)
        helpers.wait_for(lambda: is_ready(writer.ops_url), timeout=15)

    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(events)


def test_a_batch_in_hand_when_the_broker_restarts_empty_is_not_committed_there(
        stack, private_broker, writer_thread, helpers, caplog):
    kit, servers = private_broker
    camera = unique("cam")
    events = [helpers.make_event(camera, index, {unique("L"): 55.0}) for index in range(30)]
    topic = kit.fresh_topic(partitions=1)
    kit.produce(topic, events[:10])

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(10)
        stack.stop_graph()
        try:
            kit.produce(topic, events[10:20])  # read, then held while the graph is down
            helpers.wait_for(lambda: not_ready_reason(writer.ops_url), timeout=30)
            # Tansu restarts empty; the writer's group joins the new broker, whose topic
            # does not exist yet, while the batch still waits for the graph.
            servers.restart("kafka")
        finally:
            stack.start_graph()
        held = events[10:20]
        helpers.wait_for(lambda: kit.snapshot(e.object_key for e in held)
                         == helpers.expected_graph(held), timeout=60, interval=0.5)
        # Its offsets belong to a topic that is gone: they are not committed, not retried
        # ten times a second into a topic of the same name.
        after = lines_in(caplog, 3)
        assert len(after) <= 10, [record.getMessage() for record in after]
        assert "missing" in (not_ready_reason(writer.ops_url) or "")

        kit.provision(topic, partitions=1)
        kit.produce(topic, events[20:])
        writer.process(30)
        helpers.wait_for(lambda: is_ready(writer.ops_url), timeout=15)

    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(events)
