"""Image counts by calendar buckets and camera (camera-local time)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from labelgraph_api.deps import Cameras, Detector, Reads, Since, Until
from labelgraph_api.handlers import rollups
from labelgraph_api.models import Rollup
from labelgraph_contract.bounds import NAME_MAX_CHARS

router = APIRouter(tags=["rollups"])


@router.get("/rollups", response_model=Rollup, response_model_exclude_none=True)
async def rollup(
    reads: Reads,
    by: Annotated[list[str], Query(description=(
        "Keys to group by, repeated or comma-separated (by=camera,month): camera; year; "
        "month (with its year: Nov 2016 apart from Nov 2017); day (its date); hour (its "
        "date and hour); or one part across the calendar: month_of_year (all Novembers "
        "against all Decembers), day_of_month, hour_of_day."))],
    camera: Cameras = None,
    label: Annotated[str | None, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                       description="Count only images with this label.")] = None,
    min_confidence: Annotated[float | None, Query(
        ge=0, le=100, description="Least confidence of the label (needs label).")] = None,
    since: Since = None, until: Until = None, detector: Detector = None,
) -> dict[str, Any]:
    """Image counts grouped by time (and camera), optionally of images with a label
    (from the detector, when one is given; else images the detector labelled)."""
    return await rollups.rollup(reads, by=list(by), cameras=camera, label=label,
                                min_confidence=min_confidence, since=since, until=until,
                                detector=detector)
