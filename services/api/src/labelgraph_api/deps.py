"""Dependencies the routes declare: typed aliases over what the lifespan created."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema

from labelgraph_api.domain import query_digest
from labelgraph_api.observability import KEY_CHECKS_LIMITED, KEY_REFUSALS
from labelgraph_api.ports import (
    GraphReads,
    ImageBytes,
    ImageLinks,
    VerdictGraph,
    VerdictStore,
)
from labelgraph_contract.bounds import NAME_MAX_CHARS

log = logging.getLogger("labelgraph_api")
PAGING_PARAMETERS = frozenset({"cursor", "limit"})
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                               description="One of the keys in API_KEYS.")


def _reads(request: Request) -> GraphReads:
    reads: GraphReads = request.app.state.reads
    return reads


def _verdict_graph(request: Request) -> VerdictGraph:
    graph: VerdictGraph = request.app.state.verdict_graph
    return graph


def _links(request: Request) -> ImageLinks:
    links: ImageLinks = request.app.state.links
    return links


def _images(request: Request) -> ImageBytes:
    images: ImageBytes = request.app.state.images
    return images


def _verdicts(request: Request) -> VerdictStore:
    verdicts: VerdictStore = request.app.state.verdicts
    return verdicts


def _query_digest(request: Request) -> str:
    # What a page asks besides where it starts and how many: a cursor pages that only.
    return query_digest((name, value) for name, value in request.query_params.multi_items()
                        if name not in PAGING_PARAMETERS)


def _ready_timeout(request: Request) -> float:
    timeout: float = request.app.state.ready_timeout
    return timeout


class RefusedKeyLimiter:
    """Refused keys per client address in a sliding window; past the limit, no more checks.

    Only the event loop calls it (every key check is async), so it needs no lock.
    """

    def __init__(self, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._refusals: dict[str, deque[float]] = {}
        self._sweep_at = 1024

    def __len__(self) -> int:
        """Addresses tracked."""
        return len(self._refusals)

    def retry_after(self, client: str) -> float | None:
        """Seconds until the client may have a key checked again; None when it may now."""
        refusals = self._recent(client)
        if len(refusals) < self._limit:
            return None
        return max(0.0, refusals[0] + self._window - self._clock())

    def refuse(self, client: str) -> bool:
        """Count one refused key; True when it brings the client to the limit."""
        # Forget idle addresses whenever the table doubles: memory stays bounded by the
        # addresses active within one window, at amortised constant cost.
        if len(self._refusals) >= self._sweep_at:
            for address in list(self._refusals):
                self._recent(address)
            self._sweep_at = max(1024, 2 * len(self._refusals))
        refusals = self._refusals.setdefault(client, deque(maxlen=self._limit))
        refusals.append(self._clock())
        return len(refusals) == self._limit

    def _recent(self, client: str) -> deque[float]:
        refusals = self._refusals.get(client, deque())
        cutoff = self._clock() - self._window
        while refusals and refusals[0] <= cutoff:
            refusals.popleft()
        if not refusals:
            self._refusals.pop(client, None)
        return refusals


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def key_accepted(request: Request, key: str | None) -> bool:
    """Whether a key opens the api: one of API_KEYS, or anything when auth is off for dev."""
    keys: frozenset[str] = request.app.state.api_keys
    if not keys:
        return True
    if key is None:
        return False
    # Equal-length digests, compared against every key: timing tells neither the length
    # of a key nor which one is close.
    presented = _digest(key)
    return any([hmac.compare_digest(presented, _digest(k)) for k in keys])


def check_key(request: Request, key: str | None, check: Literal["session", "header"]) -> bool:
    """key_accepted, unless this client sent too many refused keys lately (then 429)."""
    limiter: RefusedKeyLimiter = request.app.state.key_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        KEY_CHECKS_LIMITED.labels(check).inc()
        raise HTTPException(status_code=429, detail="too many refused keys; try again later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    accepted = key_accepted(request, key)
    if not accepted and key is not None:  # a missing key is no guess
        KEY_REFUSALS.labels(check).inc()
        if limiter.refuse(client):
            log.warning("key checks from %s refused for a while: too many refused keys",
                        client, extra={"client": client, "check": check})
    return accepted


async def require_api_key(request: Request,
                          key: Annotated[str | None, Security(_api_key_header)]) -> None:
    """401 unless the X-API-Key header holds a configured key (or auth is off for dev)."""
    if not check_key(request, key, "header"):
        raise HTTPException(status_code=401, detail="missing or unknown X-API-Key",
                            headers={"WWW-Authenticate": "X-API-Key"})


Reads = Annotated[GraphReads, Depends(_reads)]
ReviewGraph = Annotated[VerdictGraph, Depends(_verdict_graph)]
Links = Annotated[ImageLinks, Depends(_links)]
Images = Annotated[ImageBytes, Depends(_images)]
Verdicts = Annotated[VerdictStore, Depends(_verdicts)]
ReadyTimeout = Annotated[float, Depends(_ready_timeout)]
QueryDigest = Annotated[str, Depends(_query_digest)]
# A relative moment: so long before now (minutes, hours, days, weeks).
_RELATIVE = re.compile(r"-([0-9]{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A `+` in a query string decodes to a space: "…T00:00:00 00:00" was "+00:00".
_SPACED_OFFSET = re.compile(r"(.*[0-9]) ([0-9]{2}:[0-9]{2})")


def _moment(value: Any) -> Any:
    """A relative moment as the time it names, a spaced offset as `+`; else as given."""
    if not isinstance(value, str):
        return value
    if relative := _RELATIVE.fullmatch(value):
        try:
            return datetime.now(UTC) - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
        except OverflowError as error:
            raise ValueError("relative moment before the calendar's start") from error
    spaced = _SPACED_OFFSET.fullmatch(value)
    return f"{spaced[1]}+{spaced[2]}" if spaced else value


_MOMENT_SCHEMA = WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time"},
    {"type": "string", "pattern": "^-[0-9]{1,6}[mhdw]$"}, {"type": "null"}]})
_MOMENT_TEXT = ("ISO 8601 with offset (a space before a final HH:MM offset is read as `+`), "
                "or relative to now: -30m, -2h, -30d, -1w")


def _moment_query(end: str, default: str) -> Any:
    return Query(description=f"{end} of the window, {_MOMENT_TEXT}. Default: {default}.")


Moment = Annotated[AwareDatetime | None, BeforeValidator(_moment), _MOMENT_SCHEMA]
Since = Annotated[Moment, _moment_query("Start", "none (from the first image), inclusive")]
Until = Annotated[Moment, _moment_query("End", "none (to the latest image), exclusive")]
HeatMapSince = Annotated[Moment, _moment_query("Start", "2 hours before until, inclusive")]
HeatMapUntil = Annotated[Moment, _moment_query("End", "now, exclusive")]
Cameras = Annotated[list[str] | None, Query(
    alias="camera", description="Camera name; repeat for several; none means all.")]
Label = Annotated[str, Query(min_length=1, max_length=NAME_MAX_CHARS, description="Label name.")]
Detector = Annotated[str | None, Query(max_length=NAME_MAX_CHARS,
                                       description="Only this detector.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=4096, description="next_cursor of a page.")]
Threshold = Annotated[float, Query(ge=0, le=100, description=(
    "Flag threshold: a detector says the label at this confidence or more."))]
Thresholds = Annotated[list[str] | None, Query(description=(
    "Per-detector thresholds overriding `threshold`: detector:value, several separated by "
    "commas or the parameter repeated, e.g. ssd-mobilenet-v2-coco:50,opencv-hog:30."))]
DetectorNames = Annotated[list[str] | None, Query(
    alias="detector", description="Detector to compare; repeat for several; none means all.")]
