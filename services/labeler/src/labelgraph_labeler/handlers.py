"""Use cases of the labeler, one function each, over the adapters handed in at start-up."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from labelgraph_contract import MAX_EVENT_BYTES
from labelgraph_labeler import metrics
from labelgraph_labeler.adapters.kafka import PublishFailed
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.config import RECONCILE_MARK_KEY, RECONCILE_PROGRESS_KEY
from labelgraph_labeler.domain import (
    ImageRejected,
    ImageSource,
    KeyLayout,
    StoredImage,
    labelling_event,
)
from labelgraph_labeler.ports import (
    CheckpointStore,
    Detector,
    EventPublisher,
    ImageStore,
    LabelTable,
)
from labelgraph_labeler.rows import (
    Batch,
    Checkpoint,
    batches,
    days_to_read,
    label_rows,
    ticks,
)

log = logging.getLogger(__name__)

DAYS_READ_AHEAD = 8
REFUSED_EXAMPLES = 10


class Outcome(enum.Enum):
    LABELED = "labeled"
    EXCLUDED = "excluded"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    """What became of one image for one detector; a failure carries its reason and detail."""

    detector: str
    outcome: Outcome
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ConfiguredDetector:
    """One detector as LABELER_DETECTORS names it, with its own table and checkpoint."""

    name: str
    model: Detector
    table: LabelTable
    checkpoints: CheckpointStore


@dataclass(frozen=True)
class Labeler:
    """The labeler's outside world, wired once by bootstrap."""

    images: ImageStore
    detectors: tuple[ConfiguredDetector, ...]
    publisher: EventPublisher
    layout: KeyLayout
    excluded_cameras: frozenset[str]

    def is_checkpoint(self, key: str) -> bool:
        """A backfill checkpoint or the reconcile's progress or mark: ours, in the images'
        bucket."""
        return key in (RECONCILE_PROGRESS_KEY, RECONCILE_MARK_KEY) or any(
            key == detector.checkpoints.key for detector in self.detectors)

    def only(self, names: Collection[str]) -> Labeler:
        """This labeler with the named detectors alone: label_image then asks only those."""
        return replace(self, detectors=tuple(
            detector for detector in self.detectors if detector.name in names))


@dataclass(frozen=True)
class _Image:
    """An upload ready for detectors: what S3 says, its camera and capture time, its bytes."""

    stored: StoredImage
    camera: str
    captured_at: datetime
    source: ImageSource


async def label_image(labeler: Labeler, upload: Upload, *,
                      first_delivery: bool = False) -> list[Result]:
    """Label one uploaded image with every detector: detect, record rows, publish an event.

    One result per detector. What can never succeed is refused with its reason, for that
    detector only: the others still label the image. A transient error of any detector is
    raised once every other one is written and published, so the message is redelivered:
    rows are rewritten and events carry the same event_id, so the retry is harmless.
    `first_delivery` (an upload's first receive) means no earlier try can have left rows, so
    none are read before the write; a redelivery and a relabel read the image's rows and
    delete those the new labelling drops.
    """
    key, where = upload.key, {"object_key": upload.key}
    if labeler.is_checkpoint(key):
        log.info("%s: a backfill checkpoint, not an image", key, extra=where)
        return _for_each(labeler, Outcome.IGNORED)
    try:
        image = await _prepared(labeler, upload)
    except ImageRejected as error:
        return [_refused(detector.name, key, error) for detector in labeler.detectors]
    if image is None:
        return _for_each(labeler, Outcome.EXCLUDED)
    tried = await asyncio.gather(
        *(_label_with(labeler, detector, image, first_delivery)
          for detector in labeler.detectors), return_exceptions=True)
    errors = [outcome for outcome in tried if isinstance(outcome, BaseException)]
    if errors:
        # A broker outage first: the worker stops taking uploads on it.
        raise next((e for e in errors if isinstance(e, PublishFailed)), errors[0])
    return [outcome for outcome in tried if isinstance(outcome, Result)]


async def _prepared(labeler: Labeler, upload: Upload) -> _Image | None:
    """The upload as detectors see it, None for an excluded camera; ImageRejected when no
    detector can label it."""
    key = upload.key
    camera = labeler.layout.camera(key)
    if camera in labeler.excluded_cameras:
        log.info("%s: excluded camera %s", key, camera, extra={"object_key": key})
        metrics.IMAGES_EXCLUDED.inc()
        return None
    stored = await asyncio.to_thread(labeler.images.describe, upload.bucket, key)
    # Before any detector, Rekognition included (it reads the object itself): an image
    # whose header states too many pixels, or that has none, is refused undecoded.
    await asyncio.to_thread(labeler.images.checked_header, upload.bucket, key)
    # The bytes are fetched at most once, by the first detector that reads them.
    source = ImageSource(upload.bucket, key, lambda: labeler.images.content(upload.bucket, key))
    return _Image(stored, camera, labeler.layout.captured_at(stored), source)


async def _label_with(labeler: Labeler, detector: ConfiguredDetector, image: _Image,
                      first_delivery: bool) -> Result:
    key, name = image.stored.key, detector.name
    try:
        with metrics.DETECTION_SECONDS.labels(name).time():
            detection = await asyncio.to_thread(detector.model.detect, image.source)
        event = labelling_event(image.stored, detection, camera=image.camera,
                                captured_at=image.captured_at, detector=name,
                                parameters=detector.model.parameters,
                                labeled_at=datetime.now(UTC))
        _note_trimmed(name, key, len(detection.labels), len(event.labels))
        # Rows first: if the publish fails the message is redelivered and both are redone.
        # Both come from the one event, so the table holds exactly the labels published.
        await asyncio.to_thread(detector.table.replace_rows, key, label_rows(event),
                                first_write=first_delivery)
        with metrics.PUBLISH_SECONDS.time():
            await labeler.publisher.publish(event)
    except ImageRejected as error:
        return _refused(name, key, error)
    metrics.IMAGES_LABELED.labels(name).inc()
    log.info("%s: labelled by %s with %d labels", key, name, len(event.labels),
             extra={"object_key": key, "detector": name, "event_id": event.event_id})
    return Result(name, Outcome.LABELED)


def _note_trimmed(detector: str, key: str, reported: int, kept: int) -> None:
    if kept < reported:
        log.warning("%s: %s reported %d labels, the %d most confident fit the contract's "
                    "%s-byte event", key, detector, reported, kept, f"{MAX_EVENT_BYTES:,}",
                    extra={"object_key": key, "detector": detector, "reason": "event_trimmed"})
        metrics.LABELS_TRIMMED.labels(detector).inc(reported - kept)


def _refused(detector: str, key: str, error: ImageRejected) -> Result:
    log.warning("%s: not labelled by %s (%s): %s", key, detector, error.reason, error,
                extra={"object_key": key, "detector": detector, "reason": error.reason})
    metrics.IMAGES_FAILED.labels(detector, error.reason).inc()
    return Result(detector, Outcome.FAILED, error.reason, f"{detector}: {error}")


def _for_each(labeler: Labeler, outcome: Outcome) -> list[Result]:
    return [Result(detector.name, outcome) for detector in labeler.detectors]


@dataclass
class RelabelSummary:
    """Counts of a relabel run: images, and by detector their outcomes and failure reasons."""

    images: int = 0
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    seconds: float = 0.0
    stopped_early: bool = False

    def count(self, results: list[Result]) -> None:
        self.images += 1
        for result in results:
            self.outcomes[result.detector][result.outcome.value] += 1
            if result.reason:
                self.failures[result.detector][result.reason] += 1


async def relabel(labeler: Labeler, bucket: str, prefix: str, concurrency: int,
                  progress: Callable[[int, RelabelSummary], None],
                  stop: asyncio.Event | None = None) -> RelabelSummary:
    """Label every existing object under prefix again, with every detector (say, with a new
    model version or other settings); once stop is set, only the images in hand."""
    began, summary = time.monotonic(), RelabelSummary()
    keys = await asyncio.to_thread(lambda: list(labeler.images.keys(bucket, prefix)))
    pending = iter(keys)

    async def work() -> None:
        # A fixed set of workers, not one task per key: prefixes can hold millions.
        for key in pending:
            if stop is not None and stop.is_set():
                summary.stopped_early = True
                return
            try:
                results = await label_image(labeler, Upload(bucket, key))
            except Exception as error:
                # No queue to redeliver from: count it; re-running relabel redoes it.
                log.exception("%s: not labelled (transient)", key, extra={"object_key": key})
                results = [Result(detector.name, Outcome.FAILED, "transient", str(error))
                           for detector in labeler.detectors]
            summary.count(results)
            progress(len(keys), summary)

    await asyncio.gather(*(work() for _ in range(concurrency)))
    summary.seconds = time.monotonic() - began
    return summary


@dataclass
class BackfillSummary:
    """What a backfill run published, how many images it refused, and the checkpoint stored
    after it (never moved backwards: a `--full --until` re-run of the past leaves it)."""

    events: int = 0
    batches: int = 0
    refused: int = 0
    checkpoint: Checkpoint | None = None
    # The first refused images with why, for the closing report (the log names every one).
    refused_examples: list[tuple[str, str]] = field(default_factory=list)

    def note_refused(self, refusals: list[tuple[str, str]]) -> None:
        self.refused += len(refusals)
        room = REFUSED_EXAMPLES - len(self.refused_examples)
        self.refused_examples.extend(refusals[:max(room, 0)])


async def backfill(labeler: Labeler, *, full: bool, batch_size: int,
                   until: date | None = None) -> dict[str, BackfillSummary]:
    """Publish each detector's table from its own checkpoint on; a summary per detector."""
    return {detector.name: await _backfill_table(detector, labeler.publisher, full=full,
                                                 batch_size=batch_size, until=until)
            for detector in labeler.detectors}


async def _backfill_table(detector: ConfiguredDetector, publisher: EventPublisher, *,
                          full: bool, batch_size: int, until: date | None) -> BackfillSummary:
    """Publish the events of the table's rows after the checkpoint, checkpointing per batch.

    A crash re-emits at most the batch in flight: the checkpoint moves only once the
    broker has acknowledged every event before it.
    """
    table, checkpoints = detector.table, detector.checkpoints
    stored = await asyncio.to_thread(checkpoints.load)
    checkpoint = None if full else stored
    first = checkpoint.capture_date if checkpoint else await asyncio.to_thread(
        table.earliest_capture_date)
    summary = BackfillSummary(checkpoint=stored)
    last = until or datetime.now(UTC).date() + timedelta(days=1)  # cameras run ahead of UTC
    days = list(days_to_read(first, last, checkpoint)) if first else []
    # Most days of a long history are empty: read several at once, publish them in order.
    for ahead in range(0, len(days), DAYS_READ_AHEAD):
        read = [asyncio.to_thread(table.rows_of_day, day, after)
                for day, after in days[ahead:ahead + DAYS_READ_AHEAD]]
        for rows in await asyncio.gather(*read):
            for batch in batches(ticks(rows), batch_size):
                await _publish_batch(detector, publisher, batch, summary)
    return summary


def _is_after(reached: Checkpoint, stored: Checkpoint | None) -> bool:
    return stored is None or ((reached.capture_date, reached.event_ts)
                              > (stored.capture_date, stored.event_ts))


async def _publish_batch(detector: ConfiguredDetector, publisher: EventPublisher, batch: Batch,
                         summary: BackfillSummary) -> None:
    # Refused images are named, not retried: their rows will never make an event the topic
    # takes, and stopping on them would stop the rebuild of everything after them.
    refused = await publisher.publish_all(batch.events)
    refusals = batch.refused + [(event.object_key, why) for event, why in refused]
    for key, why in refusals:
        log.error("%s: not published, its rows in %s make no event the topic takes: %s", key,
                  detector.name, why, extra={"object_key": key, "detector": detector.name,
                                             "reason": "invalid_event"})
    # The checkpoint is shared with the runs to come: a re-run of the past must not make
    # the next plain backfill publish everything after it again.
    if _is_after(batch.reached, summary.checkpoint):
        await asyncio.to_thread(detector.checkpoints.save, batch.reached)
        summary.checkpoint = batch.reached
    summary.events += len(batch.events) - len(refused)
    summary.note_refused(refusals)
    summary.batches += 1
    log.info("backfill of %s: %d events published, up to %s", detector.name,
             summary.events, batch.reached.to_json().decode(),
             extra={"detector": detector.name})
