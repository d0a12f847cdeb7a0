"""Request metrics (Prometheus) and one structured access-log line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

access_log = logging.getLogger("labelgraph_api.access")

# Module-level like every prometheus metric: the registry is process-wide anyway.
REQUEST_SECONDS = Histogram(
    "labelgraph_api_request_seconds", "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# check: "session" (the pages' login form) or "header" (X-API-Key on a data route).
KEY_REFUSALS = Counter(
    "labelgraph_api_key_refusals_total", "Keys presented that matched no configured key.",
    ["check"])
KEY_CHECKS_LIMITED = Counter(
    "labelgraph_api_key_checks_limited_total",
    "Key checks answered 429 because the client had too many refused keys.", ["check"])


def instrument(app: FastAPI) -> None:
    """Time and log every request; serve /metrics."""

    @app.middleware("http")
    async def observe(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        seconds = time.perf_counter() - started
        # The route template, not the path, so object keys do not explode the label set.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(seconds)
        access_log.info("%s %s %d", request.method, request.url.path, response.status_code,
                        extra={"method": request.method, "path": request.url.path,
                               "route": route, "status": response.status_code,
                               "duration_ms": round(seconds * 1000, 2),
                               "client": request.client.host if request.client else None})
        return response

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
