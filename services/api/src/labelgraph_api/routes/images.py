"""Cameras and images."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from labelgraph_api.deps import Graph
from labelgraph_api.models import CameraSummary, ImageDetail

router = APIRouter(tags=["images"])


@router.get("/cameras", response_model=list[CameraSummary])
async def list_cameras(graph: Graph) -> list[dict[str, object]]:
    """Every camera with its image count and time span."""
    return await graph.cameras()


@router.get("/images/{object_key:path}", response_model=ImageDetail)
async def get_image(object_key: str, graph: Graph) -> dict[str, object]:
    """One image by its S3 object key, with its labels."""
    image = await graph.image(object_key)
    if image is None:
        raise HTTPException(status_code=404, detail=f"no image with object key {object_key!r}")
    return image
