"""Labels: which there are, where they were seen, how confident the detector was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from labelgraph_api import queries, questions
from labelgraph_api.deps import Cameras, Detector, Graph, Limit, Since, Until
from labelgraph_api.domain import check_window, epoch, utc, window_before
from labelgraph_api.models import ConfidenceHistogram, DetectorList, LabelPage, Sightings

router = APIRouter(tags=["labels"])
HEAT_MAP_WINDOW = timedelta(hours=2)


@router.get("/labels", response_model=LabelPage)
async def list_labels(
    graph: Graph, limit: Limit = 50,
    prefix: Annotated[str | None, Query(min_length=1, max_length=200,
                                        description="Case-insensitive name prefix.")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Labels with their image counts, most frequent first, searchable by prefix."""
    rows = await graph.rows(queries.LABELS, prefix=prefix, offset=offset, limit=limit)
    return {"items": rows, "next_offset": offset + limit if len(rows) == limit else None}


@router.get("/sightings", response_model=Sightings)
async def label_sightings(
    graph: Graph, label: Annotated[str, Query(min_length=1, max_length=200)] = "Person",
    since: Since = None, until: Until = None, camera: Cameras = None,
    min_confidence: Annotated[float, Query(ge=0, le=100)] = 90, detector: Detector = None,
) -> dict[str, Any]:
    """Where a label was seen: matching images per camera (default: Person, last 2 hours)."""
    until = until or datetime.now(UTC)
    since = since or window_before(until, HEAT_MAP_WINDOW)
    check_window(since, until)
    label = await questions.label_named(graph, label)
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.sightings(graph, span, label=label, cameras=camera,
                                     detector=detector, min_confidence=min_confidence)
    latest = await questions.latest_captures(graph, rows)
    cameras = [{**row, "first_at": utc(row["first_ts"]), "last_at": utc(row["last_ts"]),
                "last_captured_at": latest.get(row["camera"])} for row in rows]
    return {"label": label, "since": since, "until": until, "min_confidence": min_confidence,
            "images": sum(row["images"] for row in rows), "cameras": cameras}


@router.get("/confidence-histogram", response_model=ConfidenceHistogram)
async def confidence_histogram(
    graph: Graph, label: Annotated[str, Query(min_length=1, max_length=200)] = "Person",
    camera: Cameras = None, since: Since = None, until: Until = None, detector: Detector = None,
    bucket_width: Annotated[float | None, Query(
        ge=0.001, le=100, description="Bucket width; omitted: rounded (half up) values.")] = None,
) -> dict[str, Any]:
    """Images per confidence value of a label: shows an all-or-nothing detector at a glance."""
    check_window(since, until)
    label = await questions.label_named(graph, label)
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.confidence_histogram(graph, span, label=label, cameras=camera,
                                                detector=detector, width=bucket_width)
    labelled = sum(row["images"] for row in rows)
    in_scope = await questions.images_in_scope(graph, span, camera, detector)
    buckets = [{"confidence": row["bucket"], "images": row["images"]} for row in rows]
    return {"label": label, "since": since, "until": until, "bucket_width": bucket_width,
            "images": labelled, "without_label": max(0, in_scope - labelled),
            "buckets": buckets}


@router.get("/detectors", response_model=DetectorList)
async def list_detectors(graph: Graph, since: Since = None, until: Until = None
                         ) -> dict[str, Any]:
    """Detectors that labelled the window's newest images (at most 2,000 read), by name."""
    check_window(since, until)
    span = await questions.window_of(graph, epoch(since), epoch(until))
    seen, scanned, complete = await questions.detectors(graph, span,
                                                         questions.DETECTOR_SCAN_IMAGES)
    return {"detectors": [{"detector": name, "images": seen[name]} for name in sorted(seen)],
            "images_scanned": scanned, "complete": complete}
