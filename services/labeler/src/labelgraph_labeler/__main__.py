"""labelgraph-labeler: label uploads as they arrive (run), rebuild the topic from the table
(backfill), label existing objects again (relabel), or label stored images a detector never
labelled (reconcile)."""

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
    build_reconcile_progress,
    connected_labeler,
    planned_detectors,
    serve,
    size_thread_pool,
)
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.handlers import RelabelSummary, backfill, relabel
from labelgraph_labeler.reconcile import (
    ReconcileScope,
    ReconcileSummary,
    recent_days,
    reconcile,
)
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
    bucket, prefix = _bucket_and_prefix(url, "relabel")
    stop = _stop_on_first_signal()  # Ctrl-C: finish the images in hand, then the summary
    async with connected_labeler(settings) as labeler:
        summary = await relabel(labeler, bucket, prefix, settings.concurrency, _progress_bar,
                                stop)
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


DEFAULT_RECONCILE_DAYS = 2


async def _reconcile(settings: LabelerSettings, url: str | None, days: int | None,
                     every_day: bool, limit: int | None) -> None:
    size_thread_pool(settings)
    bucket, prefix = _bucket_and_prefix(url or f"s3://{settings.image_bucket}/", "reconcile")
    stop = _stop_on_first_signal()
    async with connected_labeler(settings) as labeler:
        first_day = None if every_day else recent_days(labeler, days or DEFAULT_RECONCILE_DAYS)
        # Only a walk of every day is long enough to be worth resuming.
        saved = build_reconcile_progress(settings, bucket) if every_day else None
        summary = await reconcile(labeler, ReconcileScope(bucket, prefix, first_day),
                                  concurrency=settings.concurrency, limit=limit, saved=saved,
                                  progress=_reconcile_bar, stop=stop)
    print(file=sys.stderr)
    print(json.dumps(summary.report()))
    if summary.needs_rerun:
        raise SystemExit("reconcile: some images or days failed transiently (see the log); "
                         "run it again")


def _bucket_and_prefix(url: str, command: str) -> tuple[str, str]:
    location = urlparse(url)
    if location.scheme != "s3" or not location.netloc:
        raise SystemExit(f"{command} wants s3://bucket/prefix, got {url!r}")
    return location.netloc, location.path.lstrip("/")


def _reconcile_bar(done: int, total: int, summary: ReconcileSummary, width: int = 40) -> None:
    filled = width * done // max(total, 1)
    labelled = ", ".join(f"{name} {count}" for name, count in summary.labeled.items())
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days, "
                     f"{summary.images} images, labelled: {labelled or 'none'}, transient: "
                     f"{sum(summary.transient.values())}")
    sys.stderr.flush()


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"wants 1 or more, got {value}")
    return value


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
    reconciling = commands.add_parser(
        "reconcile", help="label stored images some detector has no row of, with it")
    reconciling.add_argument("url", metavar="s3://bucket/prefix", nargs="?",
                             help="where to look (default: IMAGE_BUCKET)")
    window = reconciling.add_mutually_exclusive_group()
    window.add_argument("--days", type=_positive, metavar="N",
                        help=f"the last N days on the cameras' clock (default "
                        f"{DEFAULT_RECONCILE_DAYS})")
    window.add_argument("--all", action="store_true", dest="every_day",
                        help="every day; an interrupted run resumes where it stopped")
    reconciling.add_argument("--limit", type=_positive, metavar="N",
                             help="label at most N images in this run")
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
    elif args.command == "relabel":
        asyncio.run(_relabel(settings, args.url))
    else:
        asyncio.run(_reconcile(settings, args.url, args.days, args.every_day, args.limit))


if __name__ == "__main__":
    main()
