"""The consume loop: a batch from the topic, its graph writes, then the commit; and the
watch that keeps readiness true about the graph and the broker meanwhile."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import ConsumerRecord

from labelgraph_graph_writer.adapters.kafka import CommitUnavailable
from labelgraph_graph_writer.handlers import GraphWriter, Outcome, accept_valid, write_events
from labelgraph_graph_writer.metrics import BATCH_SECONDS, BATCHES, EVENTS, POSITION
from labelgraph_graph_writer.ports import EventStream, GraphRepository
from labelgraph_graph_writer.readiness import Condition, Readiness
from labelgraph_graph_writer.retrying import Retry, Stopping, Wait

log = logging.getLogger(__name__)

WATCH_SECONDS = 2.0  # how often the graph and the broker are asked whether they answer
PING_SECONDS = 3.0  # how long the graph may take to answer


async def run_worker(writer: GraphWriter, consumer: EventStream, retry: Retry,
                     stop: asyncio.Event, batch_size: int, *,
                     idle_exit_seconds: float | None = None) -> None:
    """Consume until stop is set (or, with idle_exit_seconds, until the topic runs dry).

    The batch in hand is finished unless stop comes while it waits out a failure: then
    it is left uncommitted, and read again at the next start.
    """
    idle_since: float | None = None
    try:
        while not stop.is_set():
            epoch = consumer.epoch  # before the read: a batch is committed only under it
            records = await consumer.next_batch(batch_size)
            if records:
                idle_since = None
                await _write_and_commit(writer, consumer, retry, records, epoch)
            elif idle_exit_seconds is not None and consumer.assigned:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= idle_exit_seconds:
                    log.info("caught up with the topic")
                    return
    except Stopping:
        log.info("stopping with a batch unfinished; it is read again at the next start")


def waiting_on(consumer: EventStream, stop: asyncio.Event) -> Wait:
    """The loop's wait: consumption paused, still polling so the group keeps this member."""
    async def wait(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            await consumer.idle(min(1.0, max(0.0, deadline - time.monotonic())))
        if stop.is_set():
            raise Stopping
    return wait


async def _write_and_commit(writer: GraphWriter, consumer: EventStream, retry: Retry,
                            records: list[ConsumerRecord], epoch: int | None) -> None:
    started = time.perf_counter()
    batch = await accept_valid(writer, retry, records)
    outcome = await write_events(writer, retry, batch) if batch else Outcome()
    committed = await retry.until_done(Condition.COMMITS,
                                       lambda: consumer.commit(records, epoch),
                                       (CommitUnavailable,))
    for partition, offset in committed.items():
        POSITION.labels(consumer.topic, str(partition)).set(offset)
    _count(outcome)
    BATCH_SECONDS.observe(time.perf_counter() - started)
    log.info("batch written", extra={
        "records": len(records), "written": outcome.written, "stale": outcome.stale,
        "excluded": outcome.excluded, "invalid": len(records) - len(batch),
        "rejected": outcome.rejected, "label_edges": outcome.label_edges,
        "committed": bool(committed)})


def _count(outcome: Outcome) -> None:
    BATCHES.inc()
    EVENTS.labels("written").inc(outcome.written)
    EVENTS.labels("stale").inc(outcome.stale)
    EVENTS.labels("excluded").inc(outcome.excluded)


async def watch_dependencies(readiness: Readiness, graph: GraphRepository,
                             consumer: EventStream) -> None:
    """Report, every WATCH_SECONDS, whether the graph and the broker answer (until cancelled)."""
    while True:
        graph_problem, broker_problem = await asyncio.gather(_graph_problem(graph),
                                                             consumer.check())
        readiness.report(Condition.GRAPH, graph_problem)
        readiness.report(Condition.BROKER, broker_problem)
        await asyncio.sleep(WATCH_SECONDS)


async def _graph_problem(graph: GraphRepository) -> str | None:
    try:
        await asyncio.wait_for(graph.ping(), PING_SECONDS)
    except Exception as error:  # any failure means unreachable; the class says which
        return f"graph unreachable ({type(error).__name__})"
    return None
