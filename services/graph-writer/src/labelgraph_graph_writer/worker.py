"""The consume loop: a batch from the topic, one graph transaction, then the commit."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from labelgraph_graph_writer.adapters.kafka import LabelConsumer
from labelgraph_graph_writer.domain import BatchPlan
from labelgraph_graph_writer.handlers import GraphWriter, dead_letter_invalid, write_events
from labelgraph_graph_writer.metrics import BATCH_SECONDS, BATCHES, EVENTS, POSITION

log = logging.getLogger(__name__)


@dataclass
class WorkerState:
    """What readiness needs to know about the loop."""

    graph_down: bool = False


async def run_worker(writer: GraphWriter, consumer: LabelConsumer, stop: asyncio.Event,
                     batch_size: int, *, idle_exit_seconds: float | None = None,
                     state: WorkerState | None = None) -> None:
    """Consume until stop is set (or, with idle_exit_seconds, until the topic runs dry).

    The batch in hand is always finished: offsets are committed only after its write.
    """
    state = state or WorkerState()
    idle_since: float | None = None
    while not stop.is_set():
        records = await consumer.next_batch(batch_size)
        if records:
            idle_since = None
            if not await _write_and_commit(writer, consumer, records, stop, state):
                return
        elif idle_exit_seconds is not None and consumer.assigned:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= idle_exit_seconds:
                log.info("caught up with the topic")
                return


async def _write_and_commit(writer: GraphWriter, consumer: LabelConsumer,
                            records: list[ConsumerRecord], stop: asyncio.Event,
                            state: WorkerState) -> bool:
    started = time.perf_counter()

    async def backoff(seconds: float) -> bool:
        # Consumption pauses while the graph is down; the group still sees us alive.
        state.graph_down = True
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            await consumer.idle(min(1.0, max(0.0, deadline - time.monotonic())))
        return not stop.is_set()

    events = await dead_letter_invalid(writer, records)
    plan = await write_events(writer, events, backoff) if events else BatchPlan()
    if plan is None:
        log.info("stopping with a batch unwritten; it is read again at the next start")
        return False
    state.graph_down = False
    for partition, offset in (await consumer.commit(records)).items():
        POSITION.labels(consumer.topic, str(partition)).set(offset)
    _count(plan)
    BATCH_SECONDS.observe(time.perf_counter() - started)
    log.info("batch written", extra={
        "records": len(records), "written": plan.written, "stale": plan.stale,
        "excluded": plan.excluded, "invalid": len(records) - len(events),
        "label_edges": len(plan.label_rows)})
    return True


def _count(plan: BatchPlan) -> None:
    BATCHES.inc()
    EVENTS.labels("written").inc(plan.written)
    EVENTS.labels("stale").inc(plan.stale)
    EVENTS.labels("excluded").inc(plan.excluded)
