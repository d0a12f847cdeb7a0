"""The failure policy of the handlers, with a fake graph and dead-letter topic (no I/O)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiokafka import ConsumerRecord, TopicPartition
from neo4j.exceptions import ConstraintError, ServiceUnavailable

from labelgraph_contract import ImageLabeled, encode_event
from labelgraph_devstack.testing import CAPTURED, labelled_event
from labelgraph_graph_writer.adapters.kafka import LabelConsumer
from labelgraph_graph_writer.fakes import FakeDeadLetters, FakeGraph
from labelgraph_graph_writer.handlers import (
    ATTEMPTS_ALONE,
    GraphWriter,
    Outcome,
    Received,
    accept_valid,
    write_events,
)
from labelgraph_graph_writer.log_limits import RepeatLimiter
from labelgraph_graph_writer.readiness import Condition, Readiness
from labelgraph_graph_writer.retrying import Retry
from labelgraph_kafka import KafkaSettings


def event(index: int) -> ImageLabeled:
    return labelled_event(f"alarms/front/img_{index}.jpg",
                          captured=CAPTURED + timedelta(hours=index))


def record(offset: int, item: ImageLabeled | None = None, *,
           key: bytes | None = None) -> ConsumerRecord:
    value = encode_event(item).value if item else b"{}"
    key = key if key is not None or item is None else item.object_key.encode()
    return ConsumerRecord("image-labels", 0, offset, 0, 0, key, value, None, 0, 0, [])


@dataclass
class Setup:
    graph: FakeGraph
    dead_letters: FakeDeadLetters = field(default_factory=FakeDeadLetters)
    readiness: Readiness = field(default_factory=Readiness)
    waits: list[float] = field(default_factory=list)
    seen_while_waiting: list[str | None] = field(default_factory=list)

    def writer(self) -> GraphWriter:
        return GraphWriter(self.graph, self.dead_letters)  # type: ignore[arg-type]

    def retry(self) -> Retry:
        async def wait(seconds: float) -> None:
            self.waits.append(seconds)
            self.seen_while_waiting.append(self.readiness.reason())
        return Retry(self.readiness, wait, initial_seconds=0.5, max_seconds=4)

    def write(self, count: int) -> Outcome:
        batch = [Received(record(index, event(index)), event(index)) for index in range(count)]
        return asyncio.run(write_events(self.writer(), self.retry(), batch))


def test_an_event_the_graph_refuses_is_found_by_halving_and_dead_lettered_alone():
    setup = Setup(FakeGraph(poison=event(5).object_key))
    outcome = setup.write(16)

    assert setup.dead_letters.sent == [
        (5, "the graph rejected the event: ValueError: cannot store that")]
    assert sorted(setup.graph.written) == sorted(event(i).object_key for i in range(16)
                                                 if i != 5)
    assert (outcome.written, outcome.rejected) == (15, 1)
    # Halving: the whole batch, then a good and a refused half per level, then the event
    # alone, tried ATTEMPTS_ALONE times: 2 log2(16) + ATTEMPTS_ALONE transactions.
    assert len(setup.graph.calls) == 1 + 2 * 3 + 1 + ATTEMPTS_ALONE
    assert setup.readiness.reason() is None


def test_a_constraint_error_is_retried_a_few_times_then_taken_as_permanent():
    refusal = ConstraintError("Node already exists with label Image")
    setup = Setup(FakeGraph(poison=event(0).object_key, refusal=refusal))
    setup.write(1)
    assert [offset for offset, _ in setup.dead_letters.sent] == [0]
    assert "ConstraintError" in setup.dead_letters.sent[0][1]
    assert len(setup.graph.calls) == ATTEMPTS_ALONE

    # A collision that goes away (a concurrent MERGE on ArcadeDB) is only retried.
    passing = Setup(FakeGraph(failures=[ConstraintError("collided")] * (ATTEMPTS_ALONE - 1)))
    passing.write(1)
    assert (passing.dead_letters.sent, passing.graph.written) == ([], [event(0).object_key])


def test_transient_errors_are_retried_with_capped_doubling_waits_while_not_ready():
    setup = Setup(FakeGraph(failures=[ServiceUnavailable("graph down")] * 6))
    outcome = setup.write(4)

    assert setup.waits == [0.5, 1, 2, 4, 4, 4]
    assert set(setup.seen_while_waiting) == {
        "graph_writes: retrying after ServiceUnavailable"}
    assert setup.readiness.reason() is None
    assert (outcome.written, setup.dead_letters.sent) == (4, [])


def test_messages_keyed_wrong_or_not_keyed_are_dead_lettered_as_invalid():
    good, other = event(1), event(2)
    records = [record(0, good), record(1, other, key=b"alarms/front/some-other.jpg"),
               record(2, other, key=b"")]
    setup = Setup(FakeGraph())
    accepted = asyncio.run(accept_valid(setup.writer(), setup.retry(), records))

    assert [item.event for item in accepted] == [good]
    assert setup.dead_letters.sent == [
        (1, "message key is not the event's object_key"),
        (2, "message key is not the event's object_key")]


def test_a_message_without_a_key_is_dead_lettered():
    unkeyed = ConsumerRecord("image-labels", 0, 7, 0, 0, None, encode_event(event(1)).value,
                             None, 0, 0, [])
    setup = Setup(FakeGraph())
    assert asyncio.run(accept_valid(setup.writer(), setup.retry(), [unkeyed])) == []
    assert setup.dead_letters.sent == [
        (7, "message has no key: it must be the event's object_key")]


def test_readiness_logs_a_condition_once_per_change(caplog):
    readiness = Readiness()
    with caplog.at_level(logging.INFO, logger="labelgraph_graph_writer.readiness"):
        for _ in range(100):
            readiness.report(Condition.COMMITS, "retrying after CommitUnavailable")
        readiness.report(Condition.BROKER, "Kafka broker unreachable")
        assert readiness.reason() == ("commits: retrying after CommitUnavailable; "
                                      "broker: Kafka broker unreachable")
        for _ in range(100):
            readiness.report(Condition.COMMITS, None)
            readiness.report(Condition.BROKER, None)
    assert [record.message for record in caplog.records] == [
        "not ready: commits: retrying after CommitUnavailable",
        "not ready: broker: Kafka broker unreachable", "recovered: commits", "recovered: broker"]
    assert readiness.reason() is None


def test_a_client_line_repeating_every_100_ms_passes_once_a_minute_with_its_count():
    now = [1000.0]
    limiter = RepeatLimiter(seconds=60, clock=lambda: now[0])

    def passes(message: str) -> logging.LogRecord | None:
        line = logging.LogRecord("aiokafka", logging.ERROR, __file__, 1, message, ("n1",), None)
        return line if limiter.filter(line) else None

    passed = []
    for _ in range(600):  # a minute of a line every 100 ms
        passed.append(passes("Unable connect to node with id %s"))
        now[0] += 0.1
    assert len([line for line in passed if line]) == 1
    assert passes("Unable to update metadata from %s")  # another line is not held back
    now[0] = 1060.0
    again = passes("Unable connect to node with id %s")
    assert again is not None and again.suppressed_repeats == 599


def test_a_batch_read_while_the_group_rejoins_is_not_committed():
    sent: list[dict[TopicPartition, int]] = []

    async def scenario() -> list[dict[int, int]]:
        consumer = LabelConsumer(KafkaSettings(kafka_bootstrap_servers="127.0.0.1:1"),
                                 "image-labels", "g", Readiness(),
                                 session_timeout_ms=2000, heartbeat_interval_ms=500)

        async def commit(offsets: dict[TopicPartition, int]) -> None:  # the broker's part
            sent.append(offsets)
        consumer._consumer.commit = commit
        listener, partition = consumer._assignments, {TopicPartition("image-labels", 0)}
        await listener.on_partitions_assigned(partition)
        before = consumer.epoch
        await listener.on_partitions_revoked(partition)  # a rejoin begins
        during = consumer.epoch
        answers = [await consumer.commit([record(0, event(0))], before),
                   await consumer.commit([record(1, event(1))], during)]
        await listener.on_partitions_assigned(partition)
        answers.append(await consumer.commit([record(2, event(2))], during))
        answers.append(await consumer.commit([record(3, event(3))], consumer.epoch))
        return answers

    # Read before the rejoin, or during it (after a broker came back empty: at the old
    # offsets, from the new topic): committed under neither. Read after it: committed.
    assert asyncio.run(scenario()) == [{}, {}, {}, {0: 4}]
    assert sent == [{TopicPartition("image-labels", 0): 4}]
