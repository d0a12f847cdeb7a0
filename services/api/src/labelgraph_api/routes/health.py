"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from labelgraph_api.deps import Graph

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(graph: Graph) -> JSONResponse:
    """The graph answers."""
    try:
        await graph.ping()
    except Exception as error:  # any failure to reach the graph means not ready
        return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
    return JSONResponse({"status": "ok"})
