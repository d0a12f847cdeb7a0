"""Use cases of labels: which there are, where they were seen, how confident the detector was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from labelgraph_api.domain import utc, window_before
from labelgraph_api.handlers.scope import check_detector, label_named, window_of
from labelgraph_api.ports import GraphReads
from labelgraph_api.windows import DETECTOR_SCAN_IMAGES

Body = dict[str, Any]
HEAT_MAP_WINDOW = timedelta(hours=2)


async def list_labels(reads: GraphReads, prefix: str | None, offset: int, limit: int) -> Body:
    """Labels with their image counts, most frequent first; next_offset while there are more."""
    rows = await reads.labels(prefix, offset, limit)
    return {"items": rows, "next_offset": offset + limit if len(rows) == limit else None}


async def sightings(reads: GraphReads, *, label: str, since: datetime | None,
                    until: datetime | None, cameras: list[str] | None, min_confidence: float,
                    detector: str | None) -> Body:
    """Where a label was seen: matching images per camera (default window: the last 2 h)."""
    until = until or datetime.now(UTC)
    since = since or window_before(until, HEAT_MAP_WINDOW)
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.sightings(span, label=label, cameras=cameras, detector=detector,
                                 min_confidence=min_confidence)
    await check_detector(reads, detector, bool(rows))
    latest = await reads.latest_captures(rows)
    per_camera = [{**row, "first_at": utc(row["first_ts"]), "last_at": utc(row["last_ts"]),
                   "last_captured_at": latest.get(row["camera"])} for row in rows]
    return {"label": label, "since": since, "until": until, "min_confidence": min_confidence,
            "images": sum(row["images"] for row in rows), "cameras": per_camera,
            "unknown_labels": unknown}


async def confidence_histogram(reads: GraphReads, *, label: str, cameras: list[str] | None,
                               since: datetime | None, until: datetime | None,
                               detector: str | None, bucket_width: float | None,
                               threshold: float) -> Body:
    """A label's images per confidence bucket, exactly those at or above the threshold."""
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.confidence_histogram(span, label=label, cameras=cameras,
                                            detector=detector, width=bucket_width,
                                            threshold=threshold)
    labelled = sum(row["images"] for row in rows)
    in_scope = await reads.images_in_scope(span, cameras, detector)
    await check_detector(reads, detector, in_scope > 0)
    return {"label": label, "since": since, "until": until, "bucket_width": bucket_width,
            "images": labelled, "without_label": max(0, in_scope - labelled),
            "threshold": threshold, "at_or_above": sum(row["at_or_above"] for row in rows),
            "buckets": [{"confidence": row["bucket"], "images": row["images"]}
                        for row in rows], "unknown_labels": unknown}


async def list_detectors(reads: GraphReads, since: datetime | None, until: datetime | None
                         ) -> Body:
    """Detectors that labelled the window's newest images (at most 2,000 read)."""
    span = await window_of(reads, since, until, cameras=None)
    seen, scanned, complete = await reads.detectors(span, DETECTOR_SCAN_IMAGES)
    return {"detectors": [{"detector": name, "images": seen[name]} for name in sorted(seen)],
            "images_scanned": scanned, "complete": complete}
