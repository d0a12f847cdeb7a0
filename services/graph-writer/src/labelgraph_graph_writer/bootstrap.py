"""The one place that turns settings into live adapters, and starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from neo4j import AsyncDriver, AsyncGraphDatabase

from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.adapters.kafka import DeadLetterPublisher, LabelConsumer
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.handlers import (
    GraphWriter,
    fill_counts,
    fold_periodically,
    prepare_graph,
)
from labelgraph_graph_writer.log_limits import limit_client_logs
from labelgraph_graph_writer.readiness import Condition, Readiness
from labelgraph_graph_writer.recount import Difference, Scope, label_differences, labels_of
from labelgraph_graph_writer.recount import recount as recount_tallies
from labelgraph_graph_writer.retrying import Retry, Stopping
from labelgraph_graph_writer.worker import run_worker, waiting_on, watch_dependencies
from labelgraph_observability import OpsServer

log = logging.getLogger("labelgraph_graph_writer")


def build_driver(settings: GraphWriterSettings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        # Our own loop retries with backoff and pauses consumption; the driver's own
        # 30 s of silent retries would hide an outage from the metrics.
        max_transaction_retry_time=2.0,
        connection_timeout=5.0,
    )


def build_graph(settings: GraphWriterSettings, driver: AsyncDriver) -> LabelGraph:
    return LabelGraph(driver, settings.neo4j_database)


def build_writer(settings: GraphWriterSettings, graph: LabelGraph,
                 dead_letters: DeadLetterPublisher) -> GraphWriter:
    return GraphWriter(graph=graph, dead_letters=dead_letters,
                       excluded_cameras=settings.excluded_camera_set())


def build_consumer(settings: GraphWriterSettings, readiness: Readiness,
                   from_beginning: bool = False) -> LabelConsumer:
    return LabelConsumer(settings, settings.label_topic,
                         settings.consumer_group, readiness, from_beginning=from_beginning,
                         session_timeout_ms=settings.session_timeout_ms,
                         heartbeat_interval_ms=settings.heartbeat_interval_ms)


async def serve(settings: GraphWriterSettings, stop: asyncio.Event, *,
                from_beginning: bool = False, idle_exit_seconds: float | None = None) -> None:
    """Run the writer with its ops endpoints until stop is set (or the topic runs dry).

    An AuthError before the graph ever accepted the credentials is raised: a wrong
    password is permanent. Everything else the outside world does is waited out.
    """
    readiness = Readiness({Condition.PARTITIONS: "none assigned yet"})

    async def ready() -> str | None:
        return readiness.reason()

    # First: a taken ops port stops the process before any client exists to be left unclosed.
    ops = OpsServer(settings.ops_host, settings.ops_port, ready)
    await ops.start()
    log.info("ops endpoints (/health, /ready, /metrics) on %s:%d", settings.ops_host,
             settings.ops_port, extra={"ops_port": settings.ops_port})
    driver = build_driver(settings)
    graph = build_graph(settings, driver)
    dead_letters = DeadLetterPublisher(settings, settings.label_dlq_topic)
    writer = build_writer(settings, graph, dead_letters)
    consumer = build_consumer(settings, readiness, from_beginning)
    limit_client_logs()

    async def until_stopped(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set():
            raise Stopping

    retry = Retry(readiness, until_stopped, settings.retry_initial_seconds,
                  settings.retry_max_seconds)
    watch: asyncio.Task[None] | None = None
    fold: asyncio.Task[None] | None = None
    try:
        await prepare_graph(writer, retry, settings.tally_fill_batch)
        await dead_letters.start()
        await consumer.start()
        watch = asyncio.create_task(watch_dependencies(readiness, graph, consumer))
        fold = asyncio.create_task(fold_periodically(
            graph, settings.tally_settle_seconds, settings.tally_fold_seconds, stop))
        log.info("consuming", extra={"topic": settings.label_topic,
                                     "group": settings.consumer_group,
                                     "graph": settings.neo4j_uri})
        await run_worker(writer, consumer, replace(retry, wait=waiting_on(consumer, stop)),
                         stop, settings.batch_size, idle_exit_seconds=idle_exit_seconds)
    except Stopping:
        log.info("stopped before the graph was ready")
    finally:
        for task in (watch, fold):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await consumer.stop()
        await dead_letters.stop()
        await driver.close()
        await ops.stop()
        log.info("stopped")


async def create_schema(settings: GraphWriterSettings) -> None:
    """Create the graph's constraints and indexes (idempotent) and count an older graph's
    images in the tallies and its labels' edges, then return."""
    driver = build_driver(settings)
    try:
        graph = build_graph(settings, driver)
        await graph.ensure_schema()
        await fill_counts(graph, settings.tally_fill_batch)
    finally:
        await driver.close()


async def rebuild(settings: GraphWriterSettings, stop: asyncio.Event,
                  idle_exit_seconds: float) -> None:
    """Wipe the graph, then write the whole topic again from its beginning."""
    driver = build_driver(settings)
    try:
        deleted = await build_graph(settings, driver).wipe()
    finally:
        await driver.close()
    log.info("graph wiped", extra={"nodes_deleted": deleted})
    await serve(settings, stop, from_beginning=True, idle_exit_seconds=idle_exit_seconds)


async def recount(settings: GraphWriterSettings, scope: Scope,
                  repair: bool = False) -> list[Difference]:
    """Recount the scope's tallies and its labels' edge counters (every label's over the
    whole graph, else those of the scope's images) from the edges: every difference from
    the stored ones, each rewritten to the recount's counts when `repair` is asked."""
    driver = build_driver(settings)
    try:
        graph = build_graph(settings, driver)
        dates = scope.dates() if scope.windowed else None
        images = await graph.image_facts(scope.camera, dates)
        checked = recount_tallies(scope, images, await graph.tallies(scope.camera))
        whole = scope.camera is None and not scope.windowed
        labels = label_differences(await graph.label_counts(None if whole else labels_of(images)))
        if repair and checked.differences:
            await graph.set_tallies(checked.repairs())
            log.info("repaired tallies", extra={"tallies": len(checked.differences)})
        if repair and labels:
            await graph.recount_labels([difference.key[1] for difference in labels])
            log.info("repaired label edge counters", extra={"labels": len(labels)})
        return checked.differences + labels
    finally:
        await driver.close()
