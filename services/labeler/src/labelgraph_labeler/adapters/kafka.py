"""Kafka: publishing ImageLabeled events on the label topic, and asking whether we can."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from labelgraph_contract import MAX_RECORD_BYTES, EventTooLarge, ImageLabeled, encode_event
from labelgraph_kafka import KafkaSettings, kafka_client_options
from labelgraph_labeler.domain import ImageRejected

# What no retry changes: a record larger than the producer or the topic takes (the client's
# own check raises the first; a broker with a smaller max.message.bytes answers the others).
_PERMANENT = (EventTooLarge, MessageSizeTooLargeError, RecordListTooLargeError,
              RecordTooLargeError)


class PublishFailed(Exception):
    """The broker did not take the events in time (down, unreachable, overloaded)."""


class PublishRefused(ImageRejected):
    """The event can never be published (larger than the producer or the topic takes)."""

    reason = "refused_by_broker"


Refusal = tuple[ImageLabeled, str]


class LabelPublisher:
    """Publishes events keyed by object key, acknowledged by all in-sync replicas."""

    def __init__(self, connection: KafkaSettings, topic: str, timeout_seconds: float,
                 check_seconds: float) -> None:
        self._topic = topic
        # No enable_idempotence: duplicates are harmless (event_id de-duplicates), and some
        # Kafka-protocol brokers (Tansu) do not support InitProducerId.
        timeout_ms = int(timeout_seconds * 1000)
        # The largest record the contract allows, from the contract itself, so the producer
        # and the topics' max.message.bytes (provisioning) can never drift apart.
        self._producer = AIOKafkaProducer(**kafka_client_options(connection), acks="all",
                                          request_timeout_ms=timeout_ms,
                                          max_request_size=MAX_RECORD_BYTES)
        self._timeout = timeout_seconds
        self._check_seconds = check_seconds

    async def start(self) -> None:
        await self._producer.start()
        # Tracked from the start, so a check asks for the topic a publish needs.
        await self._producer.client.add_topic(self._topic)

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, event: ImageLabeled) -> None:
        """Publish one event; PublishRefused if it can never be, PublishFailed for now."""
        for _, why in await self.publish_all([event]):
            raise PublishRefused(why)

    async def publish_all(self, events: list[ImageLabeled]) -> list[Refusal]:
        """Send every event and wait until the broker has acknowledged them; returns those
        refused for good, with why. PublishFailed if any other did not get through."""
        try:
            # Bounded as a whole: while the broker is down, send() may wait for metadata.
            async with asyncio.timeout(self._timeout):
                sent = [(event, await self._send(event)) for event in events]
                pending = [(event, ack) for event, ack in sent if not isinstance(ack, str)]
                answers = await asyncio.gather(*(ack for _, ack in pending),
                                               return_exceptions=True)
        except (KafkaError, TimeoutError) as error:
            raise PublishFailed(f"publishing to {self._topic} failed: {error!r}") from error
        refused = [(event, ack) for event, ack in sent if isinstance(ack, str)]
        for (event, _), answer in zip(pending, answers, strict=True):
            if isinstance(answer, _PERMANENT):
                refused.append((event, f"{self._topic} refused it: {answer!r}"))
            elif isinstance(answer, BaseException):
                raise PublishFailed(f"publishing to {self._topic} failed: {answer!r}") from answer
        return refused

    async def _send(self, event: ImageLabeled) -> asyncio.Future[object] | str:
        """The acknowledgement to wait for, or why the event can never be sent."""
        try:
            record = encode_event(event)
            return await self._producer.send(self._topic, value=record.value, key=record.key,
                                             headers=record.headers)
        except _PERMANENT as error:
            return f"not sent: {error}"

    async def check(self) -> str | None:
        """None when the broker answers with the topic's partitions in time, else why not.

        A fresh metadata request, the one a publish makes first, bounded: a cached answer
        would say nothing about a broker that has gone since.
        """
        client = self._producer.client
        try:
            async with asyncio.timeout(self._check_seconds):
                answered = await client.force_metadata_update()
        except TimeoutError:
            return f"the Kafka broker did not answer within {self._check_seconds:g} s"
        if not answered:
            return "the Kafka broker cannot be reached"
        if not client.cluster.partitions_for_topic(self._topic):
            return f"the Kafka broker does not know topic {self._topic}"
        return None
