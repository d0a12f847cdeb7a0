"""Dependencies the routes declare: typed aliases over what the lifespan created."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import AwareDatetime

from labelgraph_api.graph import GraphReader
from labelgraph_api.s3 import ImageLinks
from labelgraph_api.verdict_table import VerdictTable

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                               description="One of the keys in API_KEYS.")


def _graph(request: Request) -> GraphReader:
    graph: GraphReader = request.app.state.graph
    return graph


def _links(request: Request) -> ImageLinks:
    links: ImageLinks = request.app.state.links
    return links


def _verdicts(request: Request) -> VerdictTable:
    verdicts: VerdictTable = request.app.state.verdicts
    return verdicts


def key_accepted(request: Request, key: str | None) -> bool:
    """Whether a key opens the api: one of API_KEYS, or anything when auth is off for dev."""
    keys: frozenset[str] = request.app.state.api_keys
    if not keys:
        return True
    # compare_digest against every key so timing tells nothing about which one is close.
    return key is not None and any([hmac.compare_digest(key.encode(), k.encode()) for k in keys])


def require_api_key(request: Request,
                    key: Annotated[str | None, Security(_api_key_header)]) -> None:
    """401 unless the X-API-Key header holds a configured key (or auth is off for dev)."""
    if not key_accepted(request, key):
        raise HTTPException(status_code=401, detail="missing or unknown X-API-Key",
                            headers={"WWW-Authenticate": "X-API-Key"})


Graph = Annotated[GraphReader, Depends(_graph)]
Links = Annotated[ImageLinks, Depends(_links)]
Verdicts = Annotated[VerdictTable, Depends(_verdicts)]
Since = Annotated[AwareDatetime | None, Query(
    description="Start of the window, ISO 8601 with offset (inclusive).")]
Until = Annotated[AwareDatetime | None, Query(
    description="End of the window, ISO 8601 with offset (exclusive).")]
Cameras = Annotated[list[str] | None, Query(
    alias="camera", description="Camera name; repeat for several; none means all.")]
Label = Annotated[str, Query(min_length=1, max_length=200, description="Label name.")]
Detector = Annotated[str | None, Query(max_length=200, description="Only this detector.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=4096, description="next_cursor of a page.")]
