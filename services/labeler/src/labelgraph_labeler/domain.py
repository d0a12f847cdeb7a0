"""Plain labelling rules: where an image comes from, when it was taken, what gets recorded.

No I/O here: the handlers feed these functions what the adapters fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from labelgraph_contract import (
    MAX_EVENT_BYTES,
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    labelling_event_id,
)


class ImageRejected(ValueError):
    """An image that asking again will not label: recorded as failed with a reason."""

    reason = "rejected"

    def __init__(self, detail: str, reason: str | None = None) -> None:
        super().__init__(detail)
        if reason is not None:
            self.reason = reason


class KeyLayoutError(ImageRejected):
    """The object key does not follow the cameras' layout."""

    reason = "key_layout"


class BadTimestampError(ImageRejected):
    """The capture time is unreadable: camera_timestamp metadata that is neither epoch
    seconds nor ISO 8601, or a file-name stamp that is no real time (month 13)."""

    reason = "bad_timestamp"


class ContractBreachError(ImageRejected):
    """The labelling cannot be stated as a valid event (a label name over the contract's
    bound, a capture time out of its range): asking the detector again changes nothing."""

    reason = "invalid_event"

    @classmethod
    def of(cls, error: ValidationError) -> ContractBreachError:
        # Without the inputs: a rejected value may be huge, and it reaches logs and the DLQ.
        return cls("; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}"
                             for e in error.errors(include_url=False, include_input=False)))


@dataclass(frozen=True)
class StoredImage:
    """What S3 says about an uploaded image (no bytes: the detector reads them itself)."""

    bucket: str
    key: str
    etag: str
    last_modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    """The detector's answer for one image."""

    labels: list[DetectedLabel]
    model_version: str


@dataclass(frozen=True)
class LabelLimits:
    """MaxLabels and MinConfidence: the two settings every detector honours."""

    max_labels: int
    min_confidence: float

    def parameters(self) -> dict[str, str]:
        return {"max_labels": str(self.max_labels),
                "min_confidence": f"{self.min_confidence:g}"}


class ImageSource:
    """One uploaded image as a detector sees it: where it is, and its bytes on demand.

    Rekognition reads the object itself; local models need the bytes, fetched once however
    many of them label the image.
    """

    def __init__(self, bucket: str, key: str, fetch: Callable[[], bytes]) -> None:
        self.bucket, self.key, self._fetch = bucket, key, fetch

    @cached_property
    def content(self) -> bytes:
        return self._fetch()


class Detector(Protocol):
    """One labelling model behind one call: an image in, its labels out.

    `detect` blocks (a network call or CPU-bound inference): callers run it off the event
    loop. It raises ImageRejected for an image it can never label (unreadable, not an
    image), and anything else for what may succeed on a later try.
    """

    @property
    def kind(self) -> str:
        """Which model this is, e.g. "aws-rekognition", "ssd-mobilenet-v2-coco"."""
        ...

    @property
    def parameters(self) -> Mapping[str, str]:
        """Every setting that shapes its answer (MaxLabels, MinConfidence, ...)."""
        ...

    def detect(self, image: ImageSource) -> Detection: ...


@dataclass(frozen=True)
class KeyLayout:
    """The cameras' object-key layout: which camera, and the clock time in the file name."""

    pattern: re.Pattern[str]
    camera_zone: ZoneInfo

    @classmethod
    def from_settings(cls, pattern: str, camera_timezone: str) -> KeyLayout:
        compiled = re.compile(pattern)
        if "camera" not in compiled.groupindex:
            raise ValueError("key pattern needs a named group 'camera'")
        return cls(compiled, ZoneInfo(camera_timezone))

    def camera(self, key: str) -> str:
        return self._match(key)["camera"]

    def captured_at(self, image: StoredImage) -> datetime:
        """Capture time: the camera's metadata, else the file name's stamp, else LastModified."""
        stamp = image.metadata.get("camera_timestamp")
        if stamp:
            try:
                return _parse_camera_timestamp(stamp, self.camera_zone)
            except (ValueError, OverflowError, OSError) as error:
                raise BadTimestampError(f"camera_timestamp {stamp!r}: {error}") from None
        named = self._match(image.key).get("stamp")
        if named:
            # zoneinfo through replace() gives the right offset for that date (DST included),
            # unlike a pytz zone passed as tzinfo=, which the original system did.
            try:
                naive = datetime.strptime(named, "%Y%m%d-%H%M%S")
            except ValueError as error:
                raise BadTimestampError(f"file name stamp {named!r}: {error}") from None
            return naive.replace(tzinfo=self.camera_zone)
        return image.last_modified.astimezone(self.camera_zone)

    def _match(self, key: str) -> dict[str, str]:
        match = self.pattern.match(key)
        if match is None:
            raise KeyLayoutError(f"key {key!r} does not match the layout {self.pattern.pattern!r}")
        return {name: value for name, value in match.groupdict().items() if value}


def _parse_camera_timestamp(value: str, zone: ZoneInfo) -> datetime:
    """Epoch seconds, or ISO 8601 (a time without offset is on the camera's clock)."""
    if value.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), zone)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def labelling_event(
    image: StoredImage,
    detection: Detection,
    *,
    camera: str,
    captured_at: datetime,
    detector: str,
    parameters: Mapping[str, str],
    labeled_at: datetime,
) -> ImageLabeled:
    """The contract event for one labelling; ContractBreachError if it cannot be one.

    `parameters` (the detector's settings) enter the event id only: a labelling with other
    settings may give other labels, so it must not share an id with this one. An event over
    the contract's MAX_EVENT_BYTES keeps its most confident labels that fit (see fitted).
    """
    identity = dict(
        bucket=image.bucket,
        object_key=image.key,
        image_etag=image.etag,
        detector=detector,
        model_version=detection.model_version,
    )
    try:
        event = ImageLabeled.model_validate(
            dict(
                event_id=labelling_event_id(**identity, parameters=parameters),
                **identity,
                camera=camera,
                **captured_fields(captured_at),
                labeled_at=labeled_at,
                labels=canonical_order(detection.labels),
            )
        )
    except ValidationError as error:
        raise ContractBreachError.of(error) from None
    return fitted(event)


def fitted(event: ImageLabeled) -> ImageLabeled:
    """The event, or when its JSON is over MAX_EVENT_BYTES, the event with as many of its
    most confident labels as fit (its labels are in canonical order, most confident first).

    Trimmed before any row is written, so the table and the topic hold the same labels; the
    same labelling always trims the same way, so its event_id still names one content.
    """
    def fits(count: int) -> bool:
        trimmed = event.model_copy(update={"labels": event.labels[:count]})
        return len(trimmed.model_dump_json().encode()) <= MAX_EVENT_BYTES

    if fits(len(event.labels)):
        return event
    kept, too_many = 0, len(event.labels)  # fits(kept) holds, fits(too_many) does not
    while too_many - kept > 1:
        middle = (kept + too_many) // 2
        kept, too_many = (middle, too_many) if fits(middle) else (kept, middle)
    return event.model_copy(update={"labels": event.labels[:kept]})


def canonical_order(labels: list[DetectedLabel]) -> list[DetectedLabel]:
    """Most confident first, then by name: the order the backfill rebuilds from the table."""
    return sorted(labels, key=lambda label: (-label.confidence, label.name))


def backoff_delay(attempt: int, base: float, cap: float, draw: float) -> float:
    """Full-jitter exponential backoff: `draw` (0-1) times min(cap, base * 2**attempt)."""
    # The exponent is bounded: after ~1,000 failures in a row (hours of an outage at the
    # cap) 2**attempt no longer fits a float, and the watch that backs off would die.
    return draw * min(cap, base * 2 ** min(attempt, 64))
