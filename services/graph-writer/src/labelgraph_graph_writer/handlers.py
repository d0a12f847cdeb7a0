"""Use cases of the graph-writer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import ConsumerRecord

from labelgraph_contract import ImageLabeled, InvalidEvent, decode_event
from labelgraph_graph_writer.adapters.graph import TRANSIENT_ERRORS, LabelGraph
from labelgraph_graph_writer.adapters.kafka import DeadLetterPublisher
from labelgraph_graph_writer.domain import BatchPlan, plan_batch
from labelgraph_graph_writer.metrics import DEAD_LETTERS, RETRIES

log = logging.getLogger(__name__)
T = TypeVar("T")

Backoff = Callable[[float], Awaitable[bool]]
"""Waits the given seconds; returns False when the service is stopping instead."""


@dataclass(frozen=True)
class GraphWriter:
    """The graph-writer's outside world and policy, wired once by bootstrap."""

    graph: LabelGraph
    dead_letters: DeadLetterPublisher
    excluded_cameras: frozenset[str] = frozenset()
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 30.0


async def dead_letter_invalid(writer: GraphWriter,
                              records: list[ConsumerRecord]) -> list[ImageLabeled]:
    """The valid events of a batch; each invalid message goes to the DLQ with its reason."""
    events = []
    for record in records:
        try:
            events.append(decode_event(record.value))
        except InvalidEvent as error:
            log.warning("dead-lettered an invalid message", extra={
                "topic": record.topic, "partition": record.partition,
                "offset": record.offset, "reason": error.reason})
            await writer.dead_letters.publish(record, error.reason)
            DEAD_LETTERS.inc()
    return events


async def write_events(writer: GraphWriter, events: list[ImageLabeled],
                       backoff: Backoff) -> BatchPlan | None:
    """Write events in one transaction, retrying transient errors; None if told to stop."""
    keys = sorted({event.object_key for event in events})
    return await retry_transient(writer, backoff, lambda: writer.graph.write_batch(
        keys, lambda held: plan_batch(events, held, writer.excluded_cameras)))


async def prepare_graph(writer: GraphWriter, backoff: Backoff) -> bool:
    """Create the schema before the first write, waiting for the graph if it is down."""
    async def ensure() -> bool:
        await writer.graph.ensure_schema()
        return True
    return await retry_transient(writer, backoff, ensure) is not None


async def retry_transient(writer: GraphWriter, backoff: Backoff,
                          operation: Callable[[], Awaitable[T]]) -> T | None:
    """operation(), retried with doubling waits while the graph fails transiently."""
    delay = writer.retry_initial_seconds
    while True:
        try:
            return await operation()
        except TRANSIENT_ERRORS as error:
            RETRIES.inc()
            log.warning("graph unavailable, retrying", extra={
                "error": f"{type(error).__name__}: {error}", "retry_in_seconds": delay})
            if not await backoff(delay):
                return None
            delay = min(delay * 2, writer.retry_max_seconds)
