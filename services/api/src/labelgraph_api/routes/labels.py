"""Labels: which there are, where they were seen, how confident the detector was."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from labelgraph_api.deps import (
    Cameras,
    Detector,
    HeatMapSince,
    HeatMapUntil,
    Limit,
    Reads,
    Since,
    Until,
)
from labelgraph_api.handlers import labels
from labelgraph_api.models import ConfidenceHistogram, DetectorList, LabelPage, Sightings
from labelgraph_contract.bounds import NAME_MAX_CHARS

router = APIRouter(tags=["labels"])
LabelName = Annotated[str, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                 description="Label name, in any case.")]


@router.get("/labels", response_model=LabelPage)
async def list_labels(
    reads: Reads, limit: Limit = 50,
    prefix: Annotated[str | None, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                        description="Case-insensitive name prefix.")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Labels with their image counts, most frequent first, searchable by prefix."""
    return await labels.list_labels(reads, prefix, offset, limit)


@router.get("/sightings", response_model=Sightings)
async def label_sightings(
    reads: Reads, label: LabelName = "Person", since: HeatMapSince = None,
    until: HeatMapUntil = None, camera: Cameras = None,
    min_confidence: Annotated[float, Query(ge=0, le=100)] = 90,
    detector: Detector = None,
) -> dict[str, Any]:
    """Where a label was seen: matching images per camera (default: Person, last 2 hours)."""
    return await labels.sightings(reads, label=label, since=since, until=until, cameras=camera,
                                  min_confidence=min_confidence, detector=detector)


@router.get("/confidence-histogram", response_model=ConfidenceHistogram)
async def confidence_histogram(
    reads: Reads, label: LabelName = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: Detector = None,
    bucket_width: Annotated[float | None, Query(
        ge=0.001, le=100, description="Bucket width; omitted: 1. A bucket is "
        "[lower bound, lower bound + width).")] = None,
    threshold: Annotated[float, Query(
        ge=0, le=100, description="Confidence whose images at or above are counted "
        "exactly (`at_or_above`), the confidence page's default.")] = 90,
) -> dict[str, Any]:
    """Images per confidence bucket of a label, the exact count at or above a threshold,
    and the images in scope without it: shows an all-or-nothing detector at a glance."""
    return await labels.confidence_histogram(reads, label=label, cameras=camera, since=since,
                                             until=until, detector=detector,
                                             bucket_width=bucket_width, threshold=threshold)


@router.get("/detectors", response_model=DetectorList)
async def list_detectors(reads: Reads, since: Since = None, until: Until = None
                         ) -> dict[str, Any]:
    """Detectors that labelled the window's newest images (at most 2,000 read), by name."""
    return await labels.list_detectors(reads, since, until)
