"""The label topic read in this notifier's own group; offsets committed after each batch."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from labelgraph_contract import InvalidEvent, decode_event
from labelgraph_notifier.config import NotifierSettings
from labelgraph_notifier.notify import Notifier

log = logging.getLogger(__name__)


def label_consumer(settings: NotifierSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        settings.topic, bootstrap_servers=settings.bootstrap_servers, group_id=settings.group,
        enable_auto_commit=False, auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms)


async def follow(consumer: AIOKafkaConsumer, notifier: Notifier, stop: asyncio.Event) -> None:
    """Handle batches until `stop` is set; a batch is committed once all of it is handled."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=100)
        records = [record for batch in batches.values() for record in batch]
        if not records:
            continue
        # Off the event loop: a webhook's retries must not stall the group's heartbeats.
        await asyncio.to_thread(_handle_all, notifier, records)
        await consumer.commit(_next_offsets(records))


def _handle_all(notifier: Notifier, records: list[ConsumerRecord]) -> None:
    for record in records:
        try:
            event = decode_event(record.value)
        except InvalidEvent as error:
            # The graph-writer dead-letters these; a notifier only passes them by.
            log.warning("skipped an invalid message: partition=%s offset=%s reason=%s",
                        record.partition, record.offset, error.reason[:300])
            continue
        notifier.handle(event)


def _next_offsets(records: list[ConsumerRecord]) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    return offsets
