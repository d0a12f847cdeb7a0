"""Use cases of the labeler, one function each, over the adapters handed in at start-up."""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from labelgraph_labeler.adapters.dynamodb import LabelTable
from labelgraph_labeler.adapters.kafka import LabelPublisher
from labelgraph_labeler.adapters.rekognition import RekognitionDetector
from labelgraph_labeler.adapters.s3 import ImageStore
from labelgraph_labeler.domain import KeyLayout, KeyLayoutError, label_rows, labelling_event

log = logging.getLogger(__name__)

# Errors that will not go away by asking again: record the image as failed and move on.
PERMANENT_ERRORS = frozenset(
    {
        "InvalidS3ObjectException",
        "InvalidImageFormatException",
        "ImageTooLargeException",
        "NoSuchKey",
        "404",
    }
)


class Outcome(enum.Enum):
    LABELED = "labeled"
    EXCLUDED = "excluded"
    FAILED = "failed"


@dataclass(frozen=True)
class Labeler:
    """The labeler's outside world, wired once by bootstrap."""

    images: ImageStore
    detector: RekognitionDetector
    table: LabelTable
    publisher: LabelPublisher
    layout: KeyLayout
    detector_name: str
    excluded_cameras: frozenset[str]


async def label_image(labeler: Labeler, key: str) -> Outcome:
    """Label one uploaded image: detect, record its rows, publish its event.

    Transient errors propagate so the message is redelivered; the rows are rewritten
    identically and the event carries the same event_id, so a retry is harmless.
    """
    try:
        camera = labeler.layout.camera(key)
        if camera in labeler.excluded_cameras:
            log.info("%s: excluded camera %s", key, camera, extra={"object_key": key})
            return Outcome.EXCLUDED
        image = await asyncio.to_thread(labeler.images.describe, key)
        detection = await asyncio.to_thread(labeler.detector.detect, image.bucket, key)
    except KeyLayoutError as error:
        log.warning("%s: not labelled: %s", key, error, extra={"object_key": key})
        return Outcome.FAILED
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in PERMANENT_ERRORS:
            raise
        log.warning("%s: not labelled: %s", key, code, extra={"object_key": key})
        return Outcome.FAILED
    event = labelling_event(
        image,
        detection,
        camera=camera,
        captured_at=labeler.layout.captured_at(image),
        detector=labeler.detector_name,
        labeled_at=datetime.now(UTC),
    )
    await asyncio.to_thread(labeler.table.put_rows, label_rows(event))
    await labeler.publisher.publish(event)
    log.info("%s: labelled with %d labels", key, len(event.labels), extra={"object_key": key})
    return Outcome.LABELED
