"""No service client makes a topic appear: only provisioning creates topics, with the
partitions and settings the docs promise.

Against the embedded broker, which (like Kafka with auto.create.topics.enable) creates a
missing topic with 4 partitions for any metadata request that allows it; it honours the
request's allow_auto_topic_creation=False.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from labelgraph_graph_writer.adapters.kafka import (
    DeadLetterPublisher,
    DeadLetterUnavailable,
    LabelConsumer,
)
from labelgraph_graph_writer.readiness import Readiness
from labelgraph_kafka import KafkaSettings, kafka_client_options
from labelgraph_labeler.adapters.kafka import LabelPublisher

pytestmark = pytest.mark.stack


@pytest.fixture
def connection(stack_env: dict[str, str]) -> KafkaSettings:
    return KafkaSettings.from_env(stack_env)


def _absent_topic() -> str:
    return f"never-made-{uuid.uuid4().hex[:10]}"


async def _topics(connection: KafkaSettings) -> list[str]:
    # All topics: a metadata request naming none, which never creates one.
    admin = AIOKafkaAdminClient(**kafka_client_options(connection))
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


def _left_absent(connection: KafkaSettings, topic: str,
                 use: Callable[[], Awaitable[None]]) -> None:
    async def use_then_list() -> list[str]:
        await use()
        return await _topics(connection)

    assert topic not in asyncio.run(use_then_list())


def test_the_labelers_publisher_leaves_a_missing_topic_missing(connection):
    topic = _absent_topic()

    async def start_and_check() -> None:
        publisher = LabelPublisher(connection, topic, timeout_seconds=5, check_seconds=5)
        await publisher.start()
        try:
            assert await publisher.check() == f"the Kafka broker does not know topic {topic}"
        finally:
            await publisher.stop()

    _left_absent(connection, topic, start_and_check)


def test_the_graph_writers_consumer_leaves_a_missing_topic_missing(connection):
    topic = _absent_topic()

    async def start_and_read() -> None:
        consumer = LabelConsumer(connection, topic, f"g-{topic}", Readiness(),
                                 session_timeout_ms=2000, heartbeat_interval_ms=500)
        try:
            # Without the topic, start asks for it until the request timeout (as against a
            # Kafka that never auto-creates); with it, start returns and a batch is read.
            async with asyncio.timeout(3):
                await consumer.start()
                await consumer.next_batch(10, timeout_ms=500)
        except TimeoutError:
            pass
        finally:
            await consumer.stop()

    _left_absent(connection, topic, start_and_read)


def test_the_dead_letter_publisher_leaves_a_missing_topic_missing(connection):
    topic = _absent_topic()
    live = f"live-{uuid.uuid4().hex[:10]}"

    async def dead_letter() -> None:
        publisher = DeadLetterPublisher(connection, topic)
        await publisher.start()
        try:
            with pytest.raises(DeadLetterUnavailable):
                await publisher.publish(_record(live), "unreadable")
        finally:
            await publisher.stop()

    _left_absent(connection, topic, dead_letter)


def _record(topic: str) -> ConsumerRecord:
    return ConsumerRecord(topic=topic, partition=0, offset=7, timestamp=0, timestamp_type=0,
                          key=b"k", value=b"not an event", checksum=None,
                          serialized_key_size=1, serialized_value_size=12, headers=())
