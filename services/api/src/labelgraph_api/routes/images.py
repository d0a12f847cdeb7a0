"""Cameras and images: what there is, and searching it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from labelgraph_api import questions
from labelgraph_api.deps import Cameras, Cursor, Detector, Graph, Limit, Links, Since, Until
from labelgraph_api.domain import (
    BadRequest,
    check_window,
    decode_cursor,
    encode_cursor,
    epoch,
    utc,
)
from labelgraph_api.models import CameraSummary, ImageDetail, ImagePage

router = APIRouter(tags=["images"])


@router.get("/cameras", response_model=list[CameraSummary])
async def list_cameras(graph: Graph) -> list[dict[str, Any]]:
    """Every camera with its image count and time span."""
    return [{**row, "first_at": utc(row["first_ts"]), "last_at": utc(row["last_ts"])}
            for row in await questions.cameras(graph)]


@router.get("/images", response_model=ImagePage)
async def search_images(
    graph: Graph, links: Links, camera: Cameras = None,
    label: Annotated[list[str] | None, Query(
        description="Label the image must carry; repeat for all of several.")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=100)] = None,
    since: Since = None, until: Until = None, limit: Limit = 50, cursor: Cursor = None,
    hour: Annotated[int | None, Query(
        ge=0, le=23, description="Hour of day on the camera's clock (a heat-map cell).")] = None,
    detector: Detector = None,
) -> dict[str, Any]:
    """Images by camera, labels, confidence range, time and detector, newest first, paged.

    With a detector: images it labelled, its labels only, matched against the asked ones."""
    check_window(since, until)
    if not label and (min_confidence is not None or max_confidence is not None):
        raise BadRequest("a confidence range needs at least one label")
    after = tuple(decode_cursor(cursor, (int, str))) if cursor else None
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.search_images(
        graph, span, sorted(set(label or ())), after, limit, cameras=camera, hour=hour,
        detector=detector,
        min_confidence=min_confidence or 0.0,
        max_confidence=100.0 if max_confidence is None else max_confidence)
    last = rows[-1] if len(rows) == limit else None
    return {"items": [links.attach(row) for row in rows],
            "next_cursor": encode_cursor((last["timestamp"], last["object_key"])) if last
            else None}


@router.get("/images/{object_key:path}", response_model=ImageDetail)
async def get_image(object_key: str, graph: Graph, links: Links) -> dict[str, Any]:
    """One image by its S3 object key, with its labels and reviewers' verdicts."""
    image = await graph.image(object_key)
    if image is None:
        raise HTTPException(status_code=404, detail=f"no image with object key {object_key!r}")
    return links.attach(image)
