"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from labelgraph_api.deps import Reads, ReadyTimeout

router = APIRouter(tags=["health"])
log = logging.getLogger("labelgraph_api")


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(reads: Reads, timeout: ReadyTimeout) -> JSONResponse:
    """The graph answers within API_READY_TIMEOUT_SECONDS."""
    # Bounded: a frozen graph accepts the connection and then never answers the handshake.
    try:
        async with asyncio.timeout(timeout):
            await reads.ping()
    except Exception as error:  # any failure to reach the graph means not ready
        # The details (addresses, driver text) go to the log: /ready needs no key.
        log.warning("not ready: graph unreachable: %s", _describe(error, timeout))
        return JSONResponse({"status": "unavailable", "reason": "graph unreachable"},
                            status_code=503)
    return JSONResponse({"status": "ok"})


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout}s"
    return f"{type(error).__name__}: {error}".replace("\n", " ")
