"""Kafka: the label topic in batches, and its dead-letter topic."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError

log = logging.getLogger(__name__)


class _RewindOnFirstAssignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks each partition to its beginning the first time it is assigned (rebuild)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self._rewound: set[TopicPartition] = set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        fresh = set(assigned) - self._rewound
        if fresh:
            await self._consumer.seek_to_beginning(*fresh)
            self._rewound |= fresh


class LabelConsumer:
    """Reads the label topic in batches; offsets are committed only when told to."""

    def __init__(self, bootstrap_servers: str, topic: str, group: str, *,
                 session_timeout_ms: int, heartbeat_interval_ms: int,
                 from_beginning: bool = False) -> None:
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
        )
        listener = _RewindOnFirstAssignment(self._consumer) if from_beginning else None
        self._consumer.subscribe([topic], listener=listener)

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    @property
    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    async def next_batch(self, max_records: int, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return [record for records in batches.values() for record in records]

    async def commit(self, records: list[ConsumerRecord]) -> dict[int, int]:
        """Commit past `records`; returns partition -> committed offset ({} if revoked)."""
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # A rebalance took the partitions: their new owner re-reads the batch, and
            # writing it twice changes nothing.
            log.warning("commit refused after a rebalance: %s", error)
            return {}
        return {partition.partition: offset for partition, offset in offsets.items()}

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


class DeadLetterPublisher:
    """Sends a message that could not be used to the dead-letter topic, with the reason."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self._topic = topic
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, record: ConsumerRecord, reason: str) -> None:
        headers = list(record.headers or []) + [
            ("dlq-reason", reason.encode()),
            ("dlq-topic", record.topic.encode()),
            ("dlq-partition", str(record.partition).encode()),
            ("dlq-offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            self._topic, value=record.value, key=record.key, headers=headers
        )
