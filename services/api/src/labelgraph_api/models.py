"""Response bodies of the api (they become the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CameraSummary(BaseModel):
    """A camera with how many images it took and over which span."""

    camera: str = Field(description="Camera name.", examples=["frontdoor"])
    images: int = Field(description="Number of images.", examples=[1234])
    first_ts: int | None = Field(description="Epoch seconds of its first image.")
    last_ts: int | None = Field(description="Epoch seconds of its latest image.")


class ImageLabel(BaseModel):
    """One label on an image."""

    name: str = Field(description="Label name.", examples=["Person"])
    confidence: float = Field(description="Detector confidence, 0-100.", examples=[99.2])
    detector: str | None = Field(description="Detector that reported it.")


class ImageDetail(BaseModel):
    """An image with its labels."""

    object_key: str = Field(description="S3 object key.")
    camera: str = Field(description="Camera that took it.")
    captured_at: datetime = Field(description="Capture time with the camera's offset.")
    timestamp: int = Field(description="Capture time, epoch seconds.")
    labels: list[ImageLabel] = Field(description="Labels, most confident first.")
