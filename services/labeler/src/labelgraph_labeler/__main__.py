"""labelgraph-labeler: label uploads as they arrive (run), rebuild the topic from the table
(backfill), or label existing objects again (relabel)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import date
from urllib.parse import urlparse

from labelgraph_labeler.bootstrap import (
    UnknownDetectorKind,
    connected_labeler,
    planned_detectors,
    serve,
    size_thread_pool,
)
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.handlers import RelabelSummary, backfill, relabel
from labelgraph_observability import configure_logging


async def _until_signalled(settings: LabelerSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop)


async def _backfill(settings: LabelerSettings, full: bool, until: date | None) -> None:
    async with connected_labeler(settings) as labeler:
        summaries = await backfill(labeler, full=full, batch_size=settings.backfill_batch_size,
                                   until=until)
    print(json.dumps({"by_detector": {
        name: {"events": summary.events, "batches": summary.batches, "refused": summary.refused,
               "refused_examples": [{"object_key": key, "why": why}
                                    for key, why in summary.refused_examples],
               "checkpoint": summary.checkpoint.to_json().decode() if summary.checkpoint
               else None}
        for name, summary in summaries.items()}}))
    refused = sum(summary.refused for summary in summaries.values())
    if refused:
        # Everything else is published by now: the exit status only says it was not all.
        raise SystemExit(f"backfill: {refused} images not published (their rows make no "
                         "event the topic takes); every other image was, see the log")


def _stop_on_first_signal() -> asyncio.Event:
    """Set by the first Ctrl-C or SIGTERM; a second Ctrl-C interrupts at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first(sig: signal.Signals) -> None:
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, first, sig)
    return stop


async def _relabel(settings: LabelerSettings, url: str) -> None:
    size_thread_pool(settings)
    location = urlparse(url)
    if location.scheme != "s3" or not location.netloc:
        raise SystemExit(f"relabel wants s3://bucket/prefix, got {url!r}")
    stop = _stop_on_first_signal()  # Ctrl-C: finish the images in hand, then the summary
    async with connected_labeler(settings) as labeler:
        summary = await relabel(labeler, location.netloc, location.path.lstrip("/"),
                                settings.concurrency, _progress_bar, stop)
    print(file=sys.stderr)
    print(json.dumps({"images": summary.images, "stopped_early": summary.stopped_early,
                      "by_detector": {
        name: {**outcomes, "failed_by_reason": dict(summary.failures[name])}
        for name, outcomes in summary.outcomes.items()}, "seconds": round(summary.seconds, 1)}))


def _progress_bar(total: int, summary: RelabelSummary, width: int = 40) -> None:
    filled = width * summary.images // max(total, 1)
    failed = ", ".join(f"{name} {outcomes['failed']}"
                       for name, outcomes in summary.outcomes.items())
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {summary.images}/{total} "
                     f"images, failed: {failed}")
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-labeler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="consume the upload queue until SIGTERM")
    filling = commands.add_parser("backfill", help="publish the table's events from the "
                                  "checkpoint in S3 on (all of them without one)")
    filling.add_argument("--full", action="store_true", help="ignore the checkpoint: reload all")
    filling.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD",
                         help="last capture date to read (default: tomorrow, UTC)")
    relabelling = commands.add_parser("relabel", help="label existing objects again")
    relabelling.add_argument("url", metavar="s3://bucket/prefix")
    args = parser.parse_args()
    settings = LabelerSettings()
    configure_logging("labeler", settings.log_level)
    try:
        planned_detectors(settings)
    except UnknownDetectorKind as error:
        raise SystemExit(f"labeler: {error}") from None
    if args.command == "run":
        asyncio.run(_until_signalled(settings))
    elif args.command == "backfill":
        asyncio.run(_backfill(settings, args.full, args.until))
    else:
        asyncio.run(_relabel(settings, args.url))


if __name__ == "__main__":
    main()
