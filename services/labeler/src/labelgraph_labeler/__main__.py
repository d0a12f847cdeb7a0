"""`python -m labelgraph_labeler run`: label uploads as they arrive."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from labelgraph_labeler.bootstrap import build_labeler, build_queue
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.worker import run_worker

log = logging.getLogger("labelgraph_labeler")


async def _run(settings: LabelerSettings) -> None:
    labeler = build_labeler(settings)
    queue = build_queue(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await labeler.publisher.start()
    log.info("labelling uploads to s3://%s from queue %s", settings.image_bucket,
             settings.image_queue_name)
    try:
        await run_worker(labeler, queue, stop, settings.concurrency)
    finally:
        await labeler.publisher.stop()
        log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-labeler", description=__doc__)
    parser.add_argument("command", choices=["run"], help="run: consume the upload queue")
    parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_run(LabelerSettings()))


if __name__ == "__main__":
    main()
