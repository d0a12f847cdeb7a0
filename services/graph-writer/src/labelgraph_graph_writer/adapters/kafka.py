"""Kafka: the label topic in batches, and its dead-letter topic."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


class LabelConsumer:
    """Reads the label topic in batches; offsets are committed only when told to."""

    def __init__(self, bootstrap_servers: str, topic: str, group: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def next_batch(self, max_records: int, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return [record for records in batches.values() for record in records]

    async def commit(self) -> None:
        await self._consumer.commit()


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
