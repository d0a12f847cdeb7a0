"""Kafka: publishing ImageLabeled events on the label topic."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from labelgraph_contract import ImageLabeled, encode_event


class LabelPublisher:
    """Publishes events keyed by object key, acknowledged by all in-sync replicas."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self._topic = topic
        # No enable_idempotence: duplicates are harmless (event_id de-duplicates), and some
        # Kafka-protocol brokers (Tansu) do not support InitProducerId.
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, event: ImageLabeled) -> None:
        record = encode_event(event)
        await self._producer.send_and_wait(
            self._topic, value=record.value, key=record.key, headers=record.headers
        )
