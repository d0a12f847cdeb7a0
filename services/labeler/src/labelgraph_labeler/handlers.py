"""Use cases of the labeler, one function each, over the adapters handed in at start-up."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from labelgraph_contract import ImageLabeled
from labelgraph_labeler import metrics
from labelgraph_labeler.adapters.dynamodb import LabelTable
from labelgraph_labeler.adapters.kafka import LabelPublisher
from labelgraph_labeler.adapters.rekognition import RekognitionDetector
from labelgraph_labeler.adapters.s3 import CheckpointStore, ImageStore
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.domain import ImageRejected, ImageSource, KeyLayout, labelling_event
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


class Outcome(enum.Enum):
    LABELED = "labeled"
    EXCLUDED = "excluded"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    """What became of one image; a failure carries its reason and the detail."""

    outcome: Outcome
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Labeler:
    """The labeler's outside world, wired once by bootstrap."""

    images: ImageStore
    detector: RekognitionDetector
    table: LabelTable
    publisher: LabelPublisher
    checkpoints: CheckpointStore
    layout: KeyLayout
    detector_name: str
    excluded_cameras: frozenset[str]


async def label_image(labeler: Labeler, upload: Upload, *,
                      first_delivery: bool = False) -> Result:
    """Label one uploaded image: detect, record its rows, publish its event.

    What can never succeed is refused with its reason; transient errors propagate so the
    message is redelivered: the rows are rewritten and the event carries the same
    event_id, so a retry is harmless. `first_delivery` (an upload's first receive) means
    no earlier try can have left rows, so none are read before the write; a redelivery
    and a relabel read the image's rows and delete those the new labelling drops.
    """
    key, where = upload.key, {"object_key": upload.key}
    if key == labeler.checkpoints.key:
        log.info("%s: the backfill's own checkpoint, not an image", key, extra=where)
        return Result(Outcome.IGNORED)
    try:
        event = await _labelling(labeler, upload)
        if event is None:
            return Result(Outcome.EXCLUDED)
        # Rows first: if the publish fails the message is redelivered and both are redone.
        # Both come from the one event, so the table holds exactly the labels published.
        await asyncio.to_thread(labeler.table.replace_rows, key, label_rows(event),
                                first_write=first_delivery)
    except ImageRejected as error:
        log.warning("%s: not labelled (%s): %s", key, error.reason, error,
                    extra={**where, "reason": error.reason})
        metrics.IMAGES_FAILED.labels(error.reason).inc()
        return Result(Outcome.FAILED, error.reason, str(error))
    with metrics.PUBLISH_SECONDS.time():
        await labeler.publisher.publish(event)
    metrics.IMAGES_LABELED.inc()
    log.info("%s: labelled with %d labels", key, len(event.labels),
             extra={**where, "event_id": event.event_id})
    return Result(Outcome.LABELED)


async def _labelling(labeler: Labeler, upload: Upload) -> ImageLabeled | None:
    """The upload's event, None for an excluded camera; ImageRejected when it can have none."""
    key = upload.key
    camera = labeler.layout.camera(key)
    if camera in labeler.excluded_cameras:
        log.info("%s: excluded camera %s", key, camera, extra={"object_key": key})
        metrics.IMAGES_EXCLUDED.inc()
        return None
    image = await asyncio.to_thread(labeler.images.describe, upload.bucket, key)
    captured_at = labeler.layout.captured_at(image)
    with metrics.REKOGNITION_SECONDS.time():
        source = ImageSource(upload.bucket, key, lambda: labeler.images.content(upload.bucket, key))
        detection = await asyncio.to_thread(labeler.detector.detect, source)
    return labelling_event(image, detection, camera=camera, captured_at=captured_at,
                           detector=labeler.detector_name,
                           parameters=labeler.detector.parameters, labeled_at=datetime.now(UTC))


@dataclass
class RelabelSummary:
    """Counts of a relabel run: outcomes, and failures by reason."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def relabel(labeler: Labeler, bucket: str, prefix: str, concurrency: int,
                  progress: Callable[[int, RelabelSummary], None]) -> RelabelSummary:
    """Label every existing object under prefix (say, with a new model version)."""
    began, summary = time.monotonic(), RelabelSummary()
    keys = await asyncio.to_thread(lambda: list(labeler.images.keys(bucket, prefix)))
    pending = iter(keys)

    async def work() -> None:
        # A fixed set of workers, not one task per key: prefixes can hold millions.
        for key in pending:
            try:
                result = await label_image(labeler, Upload(bucket, key))
            except Exception as error:
                # No queue to redeliver from: count it; re-running relabel redoes it.
                log.exception("%s: not labelled (transient)", key, extra={"object_key": key})
                result = Result(Outcome.FAILED, "transient", str(error))
            summary.outcomes[result.outcome.value] += 1
            if result.reason:
                summary.failures[result.reason] += 1
            progress(len(keys), summary)

    await asyncio.gather(*(work() for _ in range(concurrency)))
    summary.seconds = time.monotonic() - began
    return summary


@dataclass
class BackfillSummary:
    """What a backfill run published, how many images it refused, where it checkpointed."""

    events: int = 0
    batches: int = 0
    refused: int = 0
    checkpoint: Checkpoint | None = None


async def backfill(labeler: Labeler, *, full: bool, batch_size: int,
                   until: date | None = None) -> BackfillSummary:
    """Publish the events of the table's rows after the checkpoint, checkpointing per batch.

    A crash re-emits at most the batch in flight: the checkpoint moves only once the
    broker has acknowledged every event before it.
    """
    checkpoint = None if full else await asyncio.to_thread(labeler.checkpoints.load)
    first = checkpoint.capture_date if checkpoint else await asyncio.to_thread(
        labeler.table.earliest_capture_date)
    summary = BackfillSummary(checkpoint=checkpoint)
    last = until or datetime.now(UTC).date() + timedelta(days=1)  # cameras run ahead of UTC
    days = list(days_to_read(first, last, checkpoint)) if first else []
    # Most days of a long history are empty: read several at once, publish them in order.
    for ahead in range(0, len(days), DAYS_READ_AHEAD):
        read = [asyncio.to_thread(labeler.table.rows_of_day, day, after)
                for day, after in days[ahead:ahead + DAYS_READ_AHEAD]]
        for rows in await asyncio.gather(*read):
            for batch in batches(ticks(rows), batch_size):
                await _publish_batch(labeler, batch, summary)
    return summary


async def _publish_batch(labeler: Labeler, batch: Batch, summary: BackfillSummary) -> None:
    # Refused images are named, not retried: their rows will never make a valid event,
    # and stopping on them would stop the rebuild of everything after them.
    for key, why in batch.refused:
        log.error("%s: not published, its rows make no valid event: %s", key, why,
                  extra={"object_key": key, "reason": "invalid_event"})
    await labeler.publisher.publish_all(batch.events)
    await asyncio.to_thread(labeler.checkpoints.save, batch.reached)
    summary.events += len(batch.events)
    summary.refused += len(batch.refused)
    summary.batches += 1
    summary.checkpoint = batch.reached
    log.info("backfill: %d events published, checkpoint %s", summary.events,
             batch.reached.to_json().decode())
