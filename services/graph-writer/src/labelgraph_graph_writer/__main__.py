"""`python -m labelgraph_graph_writer run`: consume the label topic into the graph."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from labelgraph_graph_writer.bootstrap import build_consumer, build_driver, build_writer
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.worker import run_worker

log = logging.getLogger("labelgraph_graph_writer")


async def _run(settings: GraphWriterSettings) -> None:
    driver = build_driver(settings)
    writer = build_writer(settings, driver)
    consumer = build_consumer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await writer.graph.ensure_schema()
    await writer.dead_letters.start()
    await consumer.start()
    log.info("writing %s into %s", settings.label_topic, settings.neo4j_uri)
    try:
        await run_worker(writer, consumer, stop, settings.batch_size)
    finally:
        await consumer.stop()
        await writer.dead_letters.stop()
        await driver.close()
        log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-graph-writer", description=__doc__)
    parser.add_argument("command", choices=["run"], help="run: consume the label topic")
    parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_run(GraphWriterSettings()))  # type: ignore[call-arg]


if __name__ == "__main__":
    main()
