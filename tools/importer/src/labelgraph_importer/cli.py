"""`python -m labelgraph_importer --camera frontdoor PATH... [--dry-run] [--verbose]`
`python -m labelgraph_importer --camera frontdoor --watch FOLDER [--interval 2]`

Imports JPEG and PNG stills (files, or folders walked through) for one camera into the image
bucket, under the key layout the labeler parses, with the capture time as camera_timestamp
metadata. Files already in the bucket are skipped; a different image that would take an
existing key is refused, never written over. Exit status: 0 when nothing was refused, 1 when
something was, 2 when the import could not run (bad arguments, bucket unreachable).
--watch follows a folder cameras drop stills into, importing each once it is complete.

Settings from the environment: IMAGE_BUCKET (security-alarms), CAMERA_TIMEZONE
(America/Los_Angeles), AWS_DEFAULT_REGION (us-east-1), AWS_ENDPOINT_URL (unset on AWS) and
boto3's usual credentials.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from labelgraph_importer.config import ImporterSettings
from labelgraph_importer.importing import (
    PATH_SHOWN_CHARS,
    Action,
    Importer,
    Outcome,
    Summary,
    discover,
)
from labelgraph_importer.layout import LayoutRefusal, check_camera, shown
from labelgraph_importer.store import ImageStore, S3ImageStore
from labelgraph_importer.watching import FolderWatch, follow

EXIT_REFUSED, EXIT_FAILED = 1, 2


def main(argv: Sequence[str] | None = None, store: ImageStore | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # exifread logs a warning for every file without EXIF: the summary says it once.
    logging.getLogger("exifread").setLevel(logging.CRITICAL)
    try:
        settings = ImporterSettings.from_env(os.environ)
        camera = check_camera(args.camera)
    except (ValueError, LayoutRefusal) as error:
        parser.error(str(error))
    store = store or S3ImageStore.create(settings.image_bucket, settings.aws_region)
    importer = Importer(store, camera, settings.camera_timezone, dry_run=args.dry_run)
    if args.watch:
        if len(args.paths) != 1 or not args.paths[0].is_dir():
            parser.error("--watch follows one folder")
        return watch(importer, args.paths[0], args.interval, camera, settings.image_bucket)
    files = list(discover(args.paths))
    began, summary = time.monotonic(), Summary()
    try:
        run(importer, files, summary, verbose=args.verbose or args.dry_run)
    except (BotoCoreError, ClientError) as error:
        print(f"stopped after {summary.files} of {len(files)} files, bucket "
              f"{settings.image_bucket}: {error}\nimporting again skips what is in",
              file=sys.stderr)
        return EXIT_FAILED
    print_summary(summary, camera, settings.image_bucket, args.dry_run,
                  time.monotonic() - began)
    return EXIT_REFUSED if summary.refused else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m labelgraph_importer", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", required=True, help="the camera the stills are from")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="a still, or a folder of them")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would happen, upload nothing (the bucket is read)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="a line for every file, not only the refused ones")
    parser.add_argument("--watch", action="store_true",
                        help="follow the folder: import each still once complete (unchanged "
                        "over two polls), until Ctrl-C or SIGTERM; a line per file")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between two polls of --watch (default 2)")
    return parser


def watch(importer: Importer, folder: Path, interval: float, camera: str, bucket: str) -> int:
    """Follow `folder` until Ctrl-C or SIGTERM, then print the summary of what was done."""
    stop, began, summary = threading.Event(), time.monotonic(), Summary()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def report(outcome: Outcome) -> None:
        summary.add(outcome)
        print(describe(outcome), flush=True)

    print(f"following {shown(str(folder), PATH_SHOWN_CHARS, keep_end=True)} for camera "
          f"{camera} (Ctrl-C stops)", flush=True)
    try:
        follow(FolderWatch(folder, importer), max(interval, 0.1), stop, report)
    except KeyboardInterrupt:
        pass
    except (BotoCoreError, ClientError) as error:
        print(f"stopped: bucket {bucket}: {error}\nfollowing again skips what is in",
              file=sys.stderr)
        return EXIT_FAILED
    print_summary(summary, camera, bucket, importer.dry_run, time.monotonic() - began)
    return EXIT_REFUSED if summary.refused else 0


def run(importer: Importer, files: list[Path], summary: Summary, verbose: bool) -> None:
    """Import each file under a progress bar (on a terminal), telling refusals as they come."""
    for path in tqdm(files, unit="file", file=sys.stderr, disable=None, leave=False):
        outcome = importer.import_file(path)
        summary.add(outcome)
        if verbose or outcome.action is Action.REFUSED:
            tqdm.write(describe(outcome), file=sys.stdout)


def describe(outcome: Outcome) -> str:
    """One file's line: what happened, to which key, and where its time came from."""
    if outcome.action is Action.REFUSED:
        return f"{outcome.action:<13} {outcome.path}: {outcome.reason}: {outcome.detail}"
    line = f"{outcome.action:<13} {outcome.path} -> {outcome.key} (time from {outcome.source})"
    return f"{line}: {outcome.detail}" if outcome.detail else line


def print_summary(summary: Summary, camera: str, bucket: str, dry_run: bool, seconds: float,
                  out: TextIO | None = None) -> None:
    out = out or sys.stdout
    counts = ", ".join(f"{summary.actions[action]} {action}" for action in Action
                       if summary.actions[action] or action is not Action.WOULD_IMPORT)
    print(f"{summary.files} files for camera {camera} in bucket {bucket} "
          f"({seconds:.1f} s): {counts}", file=out)
    if summary.sources:
        print("capture time from: " + _tally(summary.sources), file=out)
    if summary.refusals:
        print("refused: " + _tally(summary.refusals), file=out)
    if dry_run:
        print("dry run: nothing was uploaded", file=out)


def _tally(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
