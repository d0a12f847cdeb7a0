"""Reconcile: label the stored images that a configured detector has no row of.

A notification can be lost (waiting in a queue when the stack died; misconfigured or
dropped on AWS), and then nothing ever labels that image. This walks the bucket's day
folders in the cameras' layout, asks each detector's table once a day which images of the
day it holds, and labels the others through label_image, as a live upload is labelled,
with exactly the detectors that lack them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.domain import KeyLayoutError
from labelgraph_labeler.handlers import Labeler, Outcome, Result, label_image
from labelgraph_labeler.ports import ReconcileMark, ReconcileProgress

log = logging.getLogger(__name__)

DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")
# How many folders deep the walk looks for day folders: the cameras' layout has them third
# (root/camera/day); a deeper tree without one is not the cameras'.
MAX_DEPTH = 4
# An interrupted `--all` resumes from its last save: often enough to lose little, seldom
# enough that a bucket of many camera-days is not a PUT (and a notification) per day.
SAVE_EVERY_SECONDS = 30.0


@dataclass(frozen=True, order=True)
class DayFolder:
    """One camera's day: a prefix and the capture date its images have in the table."""

    prefix: str
    day: date


@dataclass(frozen=True)
class ReconcileScope:
    """Where to look: a prefix of a bucket, and the first day folder to walk (None: all)."""

    bucket: str
    prefix: str = ""
    first_day: date | None = None

    def name(self, labeler: Labeler) -> str:
        """What a saved progress belongs to: another prefix or detector set starts over."""
        return (f"s3://{self.bucket}/{self.prefix} "
                f"{','.join(sorted(d.name for d in labeler.detectors))}")


@dataclass
class ReconcileSummary:
    """What a reconcile run found and did; `transient` and `days_failed` mean run it again."""

    days: int = 0
    images: int = 0
    already_labeled: int = 0
    labeled: Counter[str] = field(default_factory=Counter)
    refused: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    transient: Counter[str] = field(default_factory=Counter)
    days_failed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    limit_reached: bool = False
    stopped_early: bool = False
    resumed_after: str | None = None
    seconds: float = 0.0

    @property
    def needs_rerun(self) -> bool:
        return bool(self.transient) or self.days_failed > 0

    @property
    def finished(self) -> bool:
        """Every day walked and every image settled: nothing left for a next run."""
        return not (self.needs_rerun or self.limit_reached or self.stopped_early)

    def report(self) -> dict[str, Any]:
        return {"days": self.days, "images": self.images,
                "already_labeled": self.already_labeled, "labeled": dict(self.labeled),
                "refused": {name: dict(reasons) for name, reasons in self.refused.items()},
                "transient": dict(self.transient), "days_failed": self.days_failed,
                "skipped": dict(self.skipped), "limit_reached": self.limit_reached,
                "stopped_early": self.stopped_early, "resumed_after": self.resumed_after,
                "seconds": round(self.seconds, 1)}

    def count(self, results: list[Result]) -> None:
        for result in results:
            if result.outcome is Outcome.LABELED:
                self.labeled[result.detector] += 1
            elif result.outcome is Outcome.FAILED:
                self.refused[result.detector][result.reason] += 1


Progress = Callable[[int, int, ReconcileSummary], None]


@dataclass
class _Run:
    """One run's shared state: the limit left, the stop flag, the summary."""

    labeler: Labeler
    bucket: str
    concurrency: int
    summary: ReconcileSummary
    left: int | None
    stop: asyncio.Event

    def may_label(self) -> bool:
        """Whether one more image may be labelled (and counts it if so)."""
        if self.stop.is_set():
            self.summary.stopped_early = True
            return False
        if self.left is not None:
            if self.left <= 0:
                self.summary.limit_reached = True
                return False
            self.left -= 1
        return True


async def reconcile(labeler: Labeler, scope: ReconcileScope, *, concurrency: int,
                    limit: int | None = None, saved: ReconcileProgress | None = None,
                    progress: Progress = lambda *_: None,
                    stop: asyncio.Event | None = None) -> ReconcileSummary:
    """Label every image of the scope's day folders that some detector has no row of, with
    those detectors only; at most `limit` images. With `saved`, resume after the last day
    folder an earlier run of this scope settled, and record how far this one gets."""
    began, summary = time.monotonic(), ReconcileSummary()
    run = _Run(labeler, scope.bucket, concurrency, summary, limit, stop or asyncio.Event())
    folders = await asyncio.to_thread(day_folders, labeler, scope, summary.skipped)
    scope_name = scope.name(labeler)
    if saved:
        summary.resumed_after = await asyncio.to_thread(saved.load, scope_name)
    todo = [f for f in folders if not summary.resumed_after or f.prefix > summary.resumed_after]
    settled, all_settled, last_save = summary.resumed_after, True, time.monotonic()
    for done, folder in enumerate(todo, 1):
        day_settled = await _reconcile_day(run, folder)
        progress(done, len(todo), summary)
        all_settled = all_settled and day_settled
        if all_settled:
            settled = folder.prefix
        if saved and time.monotonic() - last_save > SAVE_EVERY_SECONDS:
            await _save(saved, scope_name, settled)
            last_save = time.monotonic()
        if summary.limit_reached or summary.stopped_early:
            break
    if saved:
        # A walk finished with every day settled: the next `--all` starts from the top.
        finished = all_settled and not (summary.limit_reached or summary.stopped_early)
        await _save(saved, scope_name, None if finished else settled)
    summary.seconds = time.monotonic() - began
    return summary


async def _save(saved: ReconcileProgress, scope_name: str, settled: str | None) -> None:
    try:
        await asyncio.to_thread(saved.save, scope_name, settled)
    except Exception:
        # Progress only spares a resumed walk some days: the labelling done stands.
        log.warning("reconcile progress not saved (up to %s)", settled, exc_info=True)


async def reconcile_at_start(labeler: Labeler, bucket: str, mark: ReconcileMark, *, days: int,
                             max_days: int, concurrency: int, stop: asyncio.Event
                             ) -> tuple[date, ReconcileSummary]:
    """The start's reconcile: the last `days`, or back to the day the last finished one began
    when that is earlier (a stop of more than `days`), at most `max_days`; a walk that
    finished marks the day it began, where the next start's begins. Returns its first day."""
    began, scope_name = recent_days(labeler, 1), ReconcileScope(bucket).name(labeler)
    try:
        last_began = await asyncio.to_thread(mark.load, scope_name)
    except Exception:
        # Without the mark the recent days are still walked; `reconcile --days` reaches back.
        log.warning("reconcile mark not read: the last %d days only", days, exc_info=True)
        last_began = None
    first_day = start_first_day(labeler, days, max_days, last_began)
    summary = await reconcile(labeler, ReconcileScope(bucket, first_day=first_day),
                              concurrency=concurrency, stop=stop)
    if summary.finished:
        try:
            await asyncio.to_thread(mark.save, scope_name, began)
        except Exception:
            # The next start then walks from the older mark: more days, nothing missed.
            log.warning("reconcile mark not saved (began %s)", began, exc_info=True)
    return first_day, summary


def start_first_day(labeler: Labeler, days: int, max_days: int, last_began: date | None
                    ) -> date:
    """The first day folder the start's reconcile walks: images stored after the last
    finished one listed its days may have lost their notifications, so it begins on the
    day that one began, if earlier than the last `days`, but never before `max_days` ago."""
    recent = recent_days(labeler, days)
    if last_began is None:
        return recent
    return max(min(recent, last_began), recent_days(labeler, max(days, max_days)))


def recent_days(labeler: Labeler, days: int) -> date:
    """The first of the last `days` days on the cameras' clock, today included: the key's
    day folder is the camera's date."""
    return datetime.now(labeler.layout.camera_zone).date() - timedelta(days=days - 1)


def day_folders(labeler: Labeler, scope: ReconcileScope, skipped: Counter[str]
                ) -> list[DayFolder]:
    """The day folders under the scope's prefix from its first day on, in key order: one
    listing per folder above the days (root, cameras), none of the images themselves.
    Objects above the day folders are counted in `skipped`, never labelled."""
    within = _day_of(scope.prefix)
    if within is not None:  # the prefix is a day, or inside one
        return [DayFolder(scope.prefix, within)]
    found: list[DayFolder] = []
    pending = [(scope.prefix, 0)]
    while pending:
        prefix, depth = pending.pop()
        listing = labeler.images.children(scope.bucket, prefix)
        for key in listing.keys:
            skipped[_skip_reason(labeler, key) or "outside_day_folders"] += 1
        for child in listing.prefixes:
            day = _day_of(child)
            if day is not None:
                if scope.first_day is None or day >= scope.first_day:
                    found.append(DayFolder(child, day))
            elif depth + 1 < MAX_DEPTH:
                pending.append((child, depth + 1))
            else:
                log.warning("%s: no day folder within %d levels, not walked", child, MAX_DEPTH)
                skipped["prefix_beyond_layout"] += 1
    return sorted(found)


def _day_of(prefix: str) -> date | None:
    """The date of the first day folder the prefix is in (its whole folders only)."""
    for folder in prefix.split("/")[:-1]:
        if DAY_FOLDER.fullmatch(folder):
            try:
                return date.fromisoformat(folder)
            except ValueError:
                return None  # 2016-13-45: no day; its images' stamps are refused anyway
    return None


def _skip_reason(labeler: Labeler, key: str) -> str | None:
    """Why a key is no image to label, None for an image."""
    if labeler.is_checkpoint(key):
        return "checkpoint"
    try:
        camera = labeler.layout.camera(key)
    except KeyLayoutError:
        return "key_layout"
    return "excluded_camera" if camera in labeler.excluded_cameras else None


async def _reconcile_day(run: _Run, folder: DayFolder) -> bool:
    """Label the folder's images some detector lacks; whether all of them are settled
    (labelled or refused for good; nothing transient, nothing left by the limit or stop)."""
    summary = run.summary
    try:
        images = await asyncio.to_thread(_images_of, run, folder.prefix)
        held = await asyncio.gather(*(asyncio.to_thread(d.table.keys_of_day, folder.day)
                                      for d in run.labeler.detectors))
    except Exception:
        # A listing or a query that failed (throttled, a table missing): the next run redoes it.
        log.exception("%s: not reconciled (transient)", folder.prefix)
        summary.days_failed += 1
        return False
    summary.days += 1
    summary.images += len(images)
    lacking = dict(_lacking(run.labeler, images, held))
    summary.already_labeled += len(images) - len(lacking)
    pending = iter(lacking.items())
    workers = [_label_lacking(run, pending) for _ in range(run.concurrency)]
    return all(await asyncio.gather(*workers))


def _images_of(run: _Run, prefix: str) -> list[str]:
    images = []
    for key in run.labeler.images.keys(run.bucket, prefix):
        reason = _skip_reason(run.labeler, key)
        if reason:
            run.summary.skipped[reason] += 1
        else:
            images.append(key)
    return images


def _lacking(labeler: Labeler, images: list[str], held: list[set[str]]
             ) -> Iterator[tuple[str, list[str]]]:
    """Each image with the detectors whose day set does not hold it."""
    for key in images:
        names = [d.name for d, keys in zip(labeler.detectors, held, strict=True)
                 if key not in keys]
        if names:
            yield key, names


async def _label_lacking(run: _Run, pending: Iterator[tuple[str, list[str]]]) -> bool:
    """One worker over the day's images; whether every image it took is settled."""
    settled = True
    for key, names in pending:
        missing = await _confirmed_missing(run.labeler, key, names)
        if not missing:
            run.summary.already_labeled += 1
            continue
        if not run.may_label():
            return False
        settled = await _label(run, key, missing) and settled
    return settled


async def _confirmed_missing(labeler: Labeler, key: str, names: list[str]) -> list[str]:
    """The detectors of `names` with no row of the image at all: the day sets are by capture
    date, which a camera's metadata can put on another day than the key's folder."""
    tables = {d.name: d.table for d in labeler.detectors}
    held = await asyncio.gather(*(asyncio.to_thread(tables[name].has_rows, key)
                                  for name in names))
    return [name for name, has in zip(names, held, strict=True) if not has]


async def _label(run: _Run, key: str, missing: list[str]) -> bool:
    try:
        # No rows of these detectors (just asked), so none to read and replace: as on an
        # upload's first delivery. A live labelling racing this one rewrites the same rows.
        results = await label_image(run.labeler.only(missing), Upload(run.bucket, key),
                                    first_delivery=True)
    except Exception:
        # No queue to redeliver from: counted, and the next run finds the image again.
        log.exception("%s: not labelled (transient)", key, extra={"object_key": key})
        run.summary.transient.update(missing)
        return False
    run.summary.count(results)
    return True
