"""The image-labels event: one message per labelling of one image.

This module is the public contract of the `image-labels` topic. Other tools consume it,
so fields are only ever added (optional, with a default); removing or retyping one
means a new schema_version and a new topic.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Literal[1] = 1

# A fixed namespace makes event ids reproducible by anyone who has the same inputs.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c3c52-54a4-4c55-9d0e-7e1b0c5f4a10")


class _Strict(BaseModel):
    # Unknown fields are ignored, not rejected: producers may add optional fields later
    # and older consumers must keep working.
    model_config = ConfigDict(extra="ignore", frozen=True)


class BoundingBox(_Strict):
    """Where an instance is, as ratios of the image's width and height (Rekognition's)."""

    width: float = Field(ge=0, le=1, description="Box width / image width.", examples=[0.21])
    height: float = Field(ge=0, le=1, description="Box height / image height.", examples=[0.5])
    left: float = Field(ge=0, le=1, description="Left edge / image width.", examples=[0.4])
    top: float = Field(ge=0, le=1, description="Top edge / image height.", examples=[0.3])


class LabelInstance(_Strict):
    """One occurrence of a label in the image."""

    bounding_box: BoundingBox = Field(description="Where the instance is.")
    confidence: float = Field(
        ge=0, le=100, description="Detector confidence for this instance, 0-100.", examples=[98.7]
    )


class DetectedLabel(_Strict):
    """One label the detector reported for the image."""

    name: str = Field(min_length=1, description="Label name as the detector spells it.",
                      examples=["Person"])
    confidence: float = Field(ge=0, le=100, description="Detector confidence, 0-100.",
                              examples=[99.1])
    parents: list[str] = Field(default_factory=list,
                               description="Names of the label's parent labels.",
                               examples=[["Human"]])
    instances: list[LabelInstance] = Field(default_factory=list,
                                           description="Located occurrences, if any.")


class ImageLabeled(_Strict):
    """An image was labelled by a detector: the message on the image-labels topic."""

    schema_version: Literal[1] = Field(
        default=SCHEMA_VERSION, description="Version of this schema; bumps mean a new topic."
    )
    event_id: str = Field(
        description="Deterministic id of this labelling (see labelling_event_id): the same "
        "image bytes labelled by the same detector and model always yield the same id, "
        "so consumers de-duplicate on it.",
        examples=["0b5f1c2e-3f7a-5d1e-9a8b-1c2d3e4f5a6b"],
    )
    bucket: str = Field(min_length=1, description="S3 bucket holding the image.",
                        examples=["security-alarms"])
    object_key: str = Field(min_length=1, description="S3 object key of the image; also the "
                            "message key.",
                            examples=["alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"])
    image_etag: str = Field(description="S3 ETag of the labelled object (identifies its bytes).",
                            examples=["9b2cf535f27731c974343645a3985328"])
    camera: str = Field(min_length=1, description="Camera that took the image.",
                        examples=["frontdoor"])
    captured_at: AwareDatetime = Field(
        description="Capture time, ISO 8601 with the camera's UTC offset.",
        examples=["2016-11-05T07:15:30-07:00"],
    )
    event_ts: int = Field(description="Capture time as epoch seconds.", examples=[1478355330])
    capture_date: date = Field(description="Capture date in the camera's time zone, YYYY-MM-DD.",
                               examples=["2016-11-05"])
    detector: str = Field(min_length=1, description="Detector that produced the labels.",
                          examples=["aws-rekognition"])
    model_version: str = Field(description="Detector model version (Rekognition's "
                               "LabelModelVersion).", examples=["3.0"])
    labeled_at: AwareDatetime = Field(description="When the labelling happened, ISO 8601.",
                                      examples=["2026-11-25T02:15:00+00:00"])
    labels: list[DetectedLabel] = Field(description="Every label reported; may be empty.")

    @model_validator(mode="after")
    def _times_agree(self) -> ImageLabeled:
        if int(self.captured_at.timestamp()) != self.event_ts:
            raise ValueError("event_ts must equal captured_at as epoch seconds")
        if self.captured_at.date() != self.capture_date:
            raise ValueError("capture_date must be the date of captured_at")
        return self


def labelling_event_id(
    *, bucket: str, object_key: str, image_etag: str, detector: str, model_version: str
) -> str:
    """The deterministic event id of one image's labelling by one detector and model."""
    name = "\x1f".join((bucket, object_key, image_etag, detector, model_version))
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
