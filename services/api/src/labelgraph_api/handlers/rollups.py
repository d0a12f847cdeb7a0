"""Use case of rollups: image counts by calendar buckets and camera (camera-local time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelgraph_api.domain import BadRequest, roll_up, rollup_keys, rollup_parts
from labelgraph_api.handlers.scope import check_detector, labels_named, window_of
from labelgraph_api.ports import GraphReads


async def rollup(reads: GraphReads, *, by: list[str], cameras: list[str] | None,
                 label: str | None, min_confidence: float | None, since: datetime | None,
                 until: datetime | None, detector: str | None) -> dict[str, Any]:
    """Image counts per bucket of the asked keys (repeated or comma-separated), of images
    with a label if one is given (from the detector, when one is given; else images the
    detector labelled)."""
    keys = rollup_keys(by)
    if min_confidence is not None and not label:
        # As /images: a confidence without a label would be silently ignored.
        raise BadRequest("min_confidence needs a label")
    span = await window_of(reads, since, until, cameras=cameras)
    named, unknown = await labels_named(reads, [label] if label else [])
    rows = await reads.rollup(span, parts=rollup_parts(keys), cameras=cameras,
                              label=next(iter(named), None),
                              min_confidence=min_confidence or 0, detector=detector)
    await check_detector(reads, detector, bool(rows))
    return {"by": keys, "rows": roll_up(rows, keys), "unknown_labels": unknown}
