"""Cameras and images: what there is, and searching it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from labelgraph_api.deps import (
    Cameras,
    Cursor,
    Detector,
    Limit,
    Links,
    QueryDigest,
    Reads,
    Since,
    Until,
    Verdicts,
)
from labelgraph_api.handlers import images
from labelgraph_api.models import CameraSummary, ImageDetail, ImagePage

router = APIRouter(tags=["images"])


@router.get("/cameras", response_model=list[CameraSummary])
async def list_cameras(reads: Reads) -> list[dict[str, Any]]:
    """Every camera with its image count and time span."""
    return await images.list_cameras(reads)


@router.get("/images", response_model=ImagePage)
async def search_images(
    reads: Reads, links: Links, query: QueryDigest, camera: Cameras = None,
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
    return await images.search_images(
        reads, links, cameras=camera, labels=label or [], min_confidence=min_confidence,
        max_confidence=max_confidence, since=since, until=until, hour=hour,
        detector=detector, limit=limit, cursor=cursor, query=query)


@router.get("/images/{object_key:path}", response_model=ImageDetail)
async def get_image(object_key: str, reads: Reads, links: Links,
                    store: Verdicts) -> dict[str, Any]:
    """One image by its S3 object key, with its labels, the reviewers' verdicts in force and
    every verdict given on it (who, when, undone or not)."""
    image = await images.image_detail(reads, links, store, object_key)
    if image is None:
        raise HTTPException(status_code=404, detail=f"no image with object key {object_key!r}")
    return image
