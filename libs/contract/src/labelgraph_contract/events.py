"""The image-labels event: one message per labelling of one image.

This module is the public contract of the `image-labels` topic. Other tools consume it,
so fields are only ever added (optional, with a default); removing or retyping one
means a new schema_version and a new topic.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labelgraph_contract.bounds import (
    FIRST_YEAR,
    LAST_YEAR,
    NAME_MAX_CHARS,
    OBJECT_KEY_MAX_BYTES,
    BucketName,
    CalendarDate,
    EpochSeconds,
    Name,
    NotBoolean,
    ObjectKey,
    Percent,
    Ratio,
    Timestamp,
    Uuid,
)

SCHEMA_VERSION: Literal[1] = 1

# Rekognition answers with tens of labels (the labeler asks for at most 1,000), a few parents
# each, and an instance per located object. With these bounds the largest label row is about
# 60 KB, well inside DynamoDB's 400 KB item.
MAX_LABELS = 1000
MAX_PARENTS = 32
MAX_INSTANCES = 100

# A fixed namespace makes event ids reproducible by anyone who has the same inputs.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c3c52-54a4-4c55-9d0e-7e1b0c5f4a10")


class _IgnoresUnknownFields(BaseModel):
    """The event's parts: frozen, exact in their types, and blind to fields they do not know."""

    # Unknown fields are ignored, not rejected: producers may add optional fields later
    # and older consumers must keep working.
    model_config = ConfigDict(extra="ignore", frozen=True)


class BoundingBox(_IgnoresUnknownFields):
    """Where an instance is, as ratios of the image's width and height (Rekognition's)."""

    width: Ratio = Field(description="Box width / image width.", examples=[0.21])
    height: Ratio = Field(description="Box height / image height.", examples=[0.5])
    left: Ratio = Field(description="Left edge / image width.", examples=[0.4])
    top: Ratio = Field(description="Top edge / image height.", examples=[0.3])


class LabelInstance(_IgnoresUnknownFields):
    """One occurrence of a label in the image."""

    bounding_box: BoundingBox = Field(description="Where the instance is.")
    confidence: Percent = Field(description="Detector confidence for this instance, 0-100.",
                                examples=[98.7])


class DetectedLabel(_IgnoresUnknownFields):
    """One label the detector reported for the image."""

    name: Name = Field(description=f"Label name as the detector spells it: 1-{NAME_MAX_CHARS} "
                       "characters (so at most 1,024 bytes, DynamoDB's bound for a key), no "
                       "control characters.", examples=["Person"])
    confidence: Percent = Field(description="Detector confidence, 0-100.", examples=[99.1])
    parents: list[Name] = Field(default_factory=list, max_length=MAX_PARENTS,
                                description=f"Names of the label's parent labels (at most "
                                f"{MAX_PARENTS}; each bounded as a label name).",
                                examples=[["Human"]])
    instances: list[LabelInstance] = Field(default_factory=list, max_length=MAX_INSTANCES,
                                           description="Located occurrences, if any (at most "
                                           f"{MAX_INSTANCES}).")


class ImageLabeled(_IgnoresUnknownFields):
    """An image was labelled by a detector: the message on the image-labels topic; its JSON
    is at most 1,000,000 bytes (MAX_EVENT_BYTES), a producer keeping the most confident labels
    that fit."""

    schema_version: Annotated[Literal[1], NotBoolean] = Field(
        default=SCHEMA_VERSION, description="Version of this schema; bumps mean a new topic."
    )
    event_id: Uuid = Field(
        description="Deterministic id of this labelling (see labelling_event_id), a lowercase "
        "UUID of the bucket, object key, ETag, detector, model version and every parameter "
        "that shapes the labels (MaxLabels, MinConfidence, ...): the same image bytes labelled "
        "by the same detector, model and parameters always yield the same id, and a labelling "
        "that can differ never does, so consumers de-duplicate on it.",
        examples=["0b5f1c2e-3f7a-5d1e-9a8b-1c2d3e4f5a6b"],
    )
    bucket: BucketName = Field(description="S3 bucket holding the image (3-63 characters, as "
                               "S3 names them).", examples=["security-alarms"])
    object_key: ObjectKey = Field(
        description=f"S3 object key of the image; also the message key. At most "
        f"{OBJECT_KEY_MAX_BYTES:,} bytes of UTF-8, S3's own bound (maxLength can only count "
        "characters, so it says 1,024 characters: the bytes are checked too); no control "
        "characters.",
        examples=["alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"])
    image_etag: Name = Field(description="S3 ETag of the labelled object (identifies its "
                             "bytes).", examples=["9b2cf535f27731c974343645a3985328"])
    camera: Name = Field(description="Camera that took the image.", examples=["frontdoor"])
    captured_at: Timestamp = Field(
        description=f"Capture time on the camera's clock, RFC 3339 with its UTC offset; from "
        f"{FIRST_YEAR} to {LAST_YEAR}, offset from -14:00 to +14:00.",
        examples=["2016-11-05T07:15:30-07:00"],
    )
    event_ts: EpochSeconds = Field(description="Capture time as epoch seconds: captured_at's "
                                   "instant, whole seconds.", examples=[1478355330])
    capture_date: CalendarDate = Field(description="Capture date in the camera's time zone, "
                                       "YYYY-MM-DD: captured_at's date.",
                                       examples=["2016-11-05"])
    detector: Name = Field(description="Detector that produced the labels.",
                           examples=["aws-rekognition"])
    model_version: Name = Field(description="Detector model version (Rekognition's "
                                "LabelModelVersion).", examples=["3.0"])
    labeled_at: Timestamp = Field(description=f"When the labelling happened, RFC 3339; from "
                                  f"{FIRST_YEAR} to {LAST_YEAR}.",
                                  examples=["2026-11-25T02:15:00+00:00"])
    labels: list[DetectedLabel] = Field(
        max_length=MAX_LABELS,
        description=f"Every label reported; may be empty; at most {MAX_LABELS}. A name listed "
        "more than once is kept once: the entry with the highest confidence (the first of "
        "equals), with its parents and instances, in the place of the name's first entry.")

    @field_validator("labels")
    @classmethod
    def _one_entry_per_name(cls, labels: list[DetectedLabel]) -> list[DetectedLabel]:
        # Here, once: the label table (one row per name) and the graph (one edge per name)
        # are both built from these labels, so they cannot keep different entries.
        kept: dict[str, DetectedLabel] = {}
        for label in labels:
            if label.name not in kept or label.confidence > kept[label.name].confidence:
                kept[label.name] = label
        return list(kept.values())

    @model_validator(mode="after")
    def _times_agree(self) -> ImageLabeled:
        if int(self.captured_at.timestamp()) != self.event_ts:
            raise ValueError("event_ts must equal captured_at as epoch seconds")
        if self.captured_at.date() != self.capture_date:
            raise ValueError("capture_date must be the date of captured_at")
        return self


def labelling_event_id(
    *, bucket: str, object_key: str, image_etag: str, detector: str, model_version: str,
    parameters: Mapping[str, str] | None = None,
) -> str:
    """The deterministic event id of one image's labelling by one detector, model and
    parameters (every setting that shapes its labels, such as MaxLabels and MinConfidence)."""
    name = "\x1f".join((bucket, object_key, image_etag, detector, model_version))
    if parameters:
        # Sorted, and as JSON so no key or value can run into the next: one id per mapping.
        name += "\x1f" + json.dumps(sorted(parameters.items()), ensure_ascii=False)
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, name))


def captured_fields(captured_at: datetime) -> dict[str, object]:
    """The three capture-time fields of an event, derived from one aware datetime."""
    if captured_at.tzinfo is None:
        raise ValueError("captured_at must carry a UTC offset")
    return {
        "captured_at": captured_at,
        "event_ts": int(captured_at.timestamp()),
        "capture_date": captured_at.date(),
    }
