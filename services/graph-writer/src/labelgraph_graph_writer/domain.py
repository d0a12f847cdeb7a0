"""How an ImageLabeled event becomes graph rows: plain data, no database."""

from __future__ import annotations

from typing import Any

from labelgraph_contract import ImageLabeled


def image_row(event: ImageLabeled) -> dict[str, Any]:
    """The parameters of one image for the graph statements (time tree included)."""
    captured = event.captured_at
    return {
        "object_key": event.object_key,
        "camera": event.camera,
        "isodate": captured.isoformat(),
        "timestamp": event.event_ts,
        "iso_date": event.capture_date.isoformat(),
        "year": captured.year,
        "month": captured.month,
        "day": captured.day,
        "hour": captured.hour,
        "bucket": event.bucket,
        "detector": event.detector,
        "model_version": event.model_version,
        "event_id": event.event_id,
        "labeled_at": event.labeled_at.isoformat(),
        "labels": [{"name": label.name, "confidence": label.confidence} for label in event.labels],
    }
