"""Kafka: publishing ImageLabeled events on the label topic."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from labelgraph_contract import ImageLabeled, encode_event


class LabelPublisher:
    """Publishes events keyed by object key, acknowledged by all in-sync replicas."""

    def __init__(self, bootstrap_servers: str, topic: str, timeout_seconds: float) -> None:
        self._topic = topic
        # No enable_idempotence: duplicates are harmless (event_id de-duplicates), and some
        # Kafka-protocol brokers (Tansu) do not support InitProducerId.
        timeout_ms = int(timeout_seconds * 1000)
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all",
                                          request_timeout_ms=timeout_ms)
        self._timeout = timeout_seconds

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, event: ImageLabeled) -> None:
        await self.publish_all([event])

    async def publish_all(self, events: list[ImageLabeled]) -> None:
        """Send every event, then wait until the broker has acknowledged all of them."""
        # Bounded as a whole: while the broker is down, send() may wait for metadata.
        async with asyncio.timeout(self._timeout):
            acks = []
            for event in events:
                record = encode_event(event)
                acks.append(await self._producer.send(
                    self._topic, value=record.value, key=record.key, headers=record.headers))
            await asyncio.gather(*acks)
