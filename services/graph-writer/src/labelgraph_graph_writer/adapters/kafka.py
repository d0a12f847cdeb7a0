"""Kafka: the label topic, read in batches and committed when told, and the dead-letter topic."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from labelgraph_contract.wire import (
    HEADER_DLQ_OFFSET,
    HEADER_DLQ_PARTITION,
    HEADER_DLQ_REASON,
    HEADER_DLQ_TOPIC,
)
from labelgraph_graph_writer.readiness import Condition, Readiness
from labelgraph_kafka import KafkaSettings, kafka_client_options

log = logging.getLogger(__name__)

# How long one commit, one dead letter or one broker check may wait for the broker; the
# caller retries with backoff (the client alone would retry every 100 ms, forever).
BROKER_TIMEOUT_SECONDS = 5.0


class CommitUnavailable(Exception):
    """The broker did not take the commit in time (down, restarting, or lost the topic)."""


class DeadLetterUnavailable(Exception):
    """The broker did not take the dead letter in time."""


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Numbers each assignment, says whether partitions are held, and for a rebuild seeks
    each partition to its beginning the first time it is assigned."""

    def __init__(self, consumer: AIOKafkaConsumer, readiness: Readiness, rewind: bool) -> None:
        self._consumer = consumer
        self._readiness = readiness
        self._rewind = rewind
        self._rewound: set[TopicPartition] = set()
        self._number = 0
        self._held = False
        self.changed = asyncio.Event()  # set when the current assignment ends

    @property
    def epoch(self) -> int | None:
        """The current assignment's number; None from a revocation to the next assignment."""
        return self._number if self._held else None

    def _next(self, held: bool) -> None:
        self._number += 1
        self._held = held
        self.changed.set()
        self.changed = asyncio.Event()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # A rejoin has begun: until it ends, the client may still hand out records read at
        # positions the new assignment does not confirm (seen after a broker came back
        # empty: read at the old offsets from the new topic, and committed there).
        self._next(held=False)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._next(held=True)
        # Joined the group is ready, partitions or not: with more writers than partitions
        # the spare ones idle, healthy, and take over when a member leaves.
        self._readiness.report(Condition.PARTITIONS, None)
        if not assigned:
            log.info("in the group with no partitions assigned: idle until a member leaves "
                     "(more writers than the topic has partitions)")
        fresh = set(assigned) - self._rewound
        if self._rewind and fresh:
            await self._consumer.seek_to_beginning(*fresh)
            self._rewound |= fresh


class LabelConsumer:
    """Reads the label topic in batches; offsets are committed only when told to."""

    def __init__(self, connection: KafkaSettings, topic: str, group: str, readiness: Readiness, *,
                 session_timeout_ms: int, heartbeat_interval_ms: int,
                 from_beginning: bool = False) -> None:
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            **kafka_client_options(connection),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
        )
        self._assignments = _Assignments(self._consumer, readiness, from_beginning)
        self._consumer.subscribe([topic], listener=self._assignments)

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    @property
    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    @property
    def epoch(self) -> int | None:
        """Number of the current assignment (None while rebalancing): read it before a
        batch, hand it to commit."""
        return self._assignments.epoch

    async def next_batch(self, max_records: int, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return [record for records in batches.values() for record in records]

    async def commit(self, records: list[ConsumerRecord], epoch: int | None) -> dict[int, int]:
        """Commit past `records`; returns partition -> committed offset.

        Nothing is committed ({}) for a batch read during a rebalance or under an earlier
        assignment than the current one: after a rebalance the new owner re-reads it, and
        after a broker that restarted empty its offsets would point into a different topic.
        Raises CommitUnavailable when the broker does not answer in time.
        """
        if epoch is None or epoch != self._assignments.epoch:
            return _not_committed("the partitions were reassigned since the batch was read")
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        reassigned = asyncio.ensure_future(self._assignments.changed.wait())
        commit = asyncio.ensure_future(self._consumer.commit(offsets))
        try:
            await asyncio.wait({commit, reassigned}, timeout=BROKER_TIMEOUT_SECONDS,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            reassigned.cancel()
        if not commit.done():
            commit.cancel()
            if reassigned.done() and not reassigned.cancelled():
                return _not_committed("the partitions were reassigned during the commit")
            raise CommitUnavailable(f"no answer within {BROKER_TIMEOUT_SECONDS:g} s")
        try:
            commit.result()
        except (CommitFailedError, IllegalStateError) as error:
            return _not_committed(f"the group rebalanced: {error}")
        except KafkaError as error:
            raise CommitUnavailable(repr(error)) from error
        return {partition.partition: offset for partition, offset in offsets.items()}

    async def check(self) -> str | None:
        """None when the broker answers a fresh metadata request listing the topic."""
        try:
            topics = await asyncio.wait_for(self._consumer.topics(), BROKER_TIMEOUT_SECONDS)
        except (KafkaError, TimeoutError):
            return "Kafka broker unreachable"
        return None if self.topic in topics else f"topic {self.topic} missing on the broker"

    async def idle(self, seconds: float) -> None:
        """Wait without consuming, still polling so the group keeps this member."""
        partitions = self._consumer.assignment()
        self._consumer.pause(*partitions)
        try:
            unasked = await self._consumer.getmany(timeout_ms=int(seconds * 1000))
            # A rebalance during the wait can hand over unpaused partitions: give their
            # records back rather than skip them.
            for partition, records in unasked.items():
                self._consumer.seek(partition, records[0].offset)
        finally:
            self._consumer.resume(*partitions)


def _not_committed(why: str) -> dict[int, int]:
    # Harmless: the batch is in the graph, and whoever reads it again changes nothing.
    log.warning("batch not committed", extra={"why": why})
    return {}


class DeadLetterPublisher:
    """Sends a message that could not be used to the dead-letter topic, with the reason."""

    def __init__(self, connection: KafkaSettings, topic: str) -> None:
        self._topic = topic
        self._producer = AIOKafkaProducer(**kafka_client_options(connection), acks="all")

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, record: ConsumerRecord, reason: str) -> None:
        """Raises DeadLetterUnavailable when the broker does not acknowledge in time."""
        headers = list(record.headers or []) + [
            (HEADER_DLQ_REASON, reason.encode(errors="backslashreplace")),
            (HEADER_DLQ_TOPIC, record.topic.encode()),
            (HEADER_DLQ_PARTITION, str(record.partition).encode()),
            (HEADER_DLQ_OFFSET, str(record.offset).encode()),
        ]
        try:
            async with asyncio.timeout(BROKER_TIMEOUT_SECONDS):
                await self._producer.send_and_wait(
                    self._topic, value=record.value, key=record.key, headers=headers)
        except (KafkaError, TimeoutError) as error:
            raise DeadLetterUnavailable(repr(error)) from error
