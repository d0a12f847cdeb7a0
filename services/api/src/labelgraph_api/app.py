"""The FastAPI application: clients are made in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import boto3
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from neo4j.exceptions import DriverError, Neo4jError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from labelgraph_api import observability
from labelgraph_api.adapters.graph import GraphSession, GraphTimeout, open_driver
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.adapters.s3 import S3ImageReader, image_links, reading_client
from labelgraph_api.adapters.verdict_graph import VerdictProjection
from labelgraph_api.adapters.verdict_table import VerdictStoreUnavailable, VerdictTable
from labelgraph_api.bounded_body import BoundedBody
from labelgraph_api.config import ApiSettings
from labelgraph_api.deps import RefusedKeyLimiter, require_api_key
from labelgraph_api.domain import BadRequest
from labelgraph_api.handlers.verdicts import restore_verdicts
from labelgraph_api.pages import router as pages
from labelgraph_api.ports import (
    GraphReads,
    ImageBytes,
    ImageLinks,
    VerdictGraph,
    VerdictStore,
)
from labelgraph_api.routes import exports, health, images, labels, reviews, rollups

log = logging.getLogger("labelgraph_api")

SWAGGER_UI = "/ui/static/vendor/swagger-ui"
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{{{title}}}}</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
<link rel="icon" type="image/png" href="{SWAGGER_UI}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/ui/static/docs.js"></script>
</body>
</html>
"""


def create_app(settings: ApiSettings) -> FastAPI:
    settings.refuse_to_serve_without_keys()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = open_driver(settings)
        session = GraphSession(driver, settings.neo4j_database, settings.query_timeout_seconds)
        # Typed on the ports, so mypy checks each adapter keeps its port's promises.
        reads: GraphReads = CypherReads(session)
        verdict_graph: VerdictGraph = VerdictProjection(session)
        aws = boto3.session.Session()
        links: ImageLinks = image_links(aws, settings.aws_default_region,
                                        settings.public_s3_endpoint_url, settings.image_bucket,
                                        settings.presign_seconds)
        image_bytes: ImageBytes = S3ImageReader(
            reading_client(aws, settings.aws_default_region), settings.image_bucket)
        store: VerdictStore = VerdictTable(
            aws.client("dynamodb", region_name=settings.aws_default_region),
            settings.verdict_table)
        app.state.reads, app.state.verdict_graph = reads, verdict_graph
        app.state.links, app.state.verdicts, app.state.images = links, store, image_bytes
        app.state.api_keys = settings.key_set
        if not settings.key_set:
            log.warning("API_INSECURE_NO_AUTH is set: every route is open without a key")
        # In the background: a graph that is down at start must not hold up /health.
        schema = asyncio.create_task(_prepare_graph(app.state.verdict_graph,
                                                    app.state.verdicts))
        _freeze_what_lives_on()
        try:
            yield
        finally:
            schema.cancel()
            await driver.close()

    # /docs and /openapi.json are ours (see _serve_docs); ReDoc would load from a CDN.
    app = FastAPI(title="labelgraph", version="0.2.0", lifespan=lifespan,
                  description="Questions about what security cameras saw.",
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.key_limiter = RefusedKeyLimiter(settings.key_failure_limit,
                                              settings.key_failure_window_seconds)
    app.state.ready_timeout = settings.ready_timeout_seconds
    app.include_router(health.router)
    # The pages hold no data (their scripts call the routes below with the user's key).
    app.include_router(pages.router)
    app.mount("/ui/static", pages.static_files(), name="static")
    _serve_docs(app)
    for router in (images.router, labels.router, rollups.router, reviews.router,
                   exports.router):
        app.include_router(router, dependencies=[Depends(require_api_key)])
    # Inside the access log's middleware, so a refused body is logged and counted.
    app.add_middleware(BoundedBody)
    observability.instrument(app)
    _map_errors(app)
    _read_proxy_headers(app, settings)
    return app


def _freeze_what_lives_on() -> None:
    """Keep what start-up built (about 157,000 objects, boto3's models most of them; all of
    it lives as long as the process) out of the cyclic collector's full passes. Each such
    pass walked it all for 75-90 ms, stalling whichever request set it off: on the million-
    image graph the slowest of 180 page requests took 123 ms, 53 ms once frozen, with full
    passes of 2-3 ms (docs/benchmarks.md, "third pass")."""
    gc.collect()  # garbage left from start-up is freed, not kept for good
    gc.freeze()


def _read_proxy_headers(app: FastAPI, settings: ApiSettings) -> None:
    """The client's address from X-Forwarded-For, only when a trusted proxy sent it.

    Outermost, so the key limiter and the access log see the client, not the proxy.
    uvicorn's own handling (which trusts loopback) is off in `serve`: this is the only one.
    """
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware,
                           trusted_hosts=[str(network) for network in settings.trusted_proxies])


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the vendored assets (FastAPI's default loads it from a CDN,
    which leaves the page blank on a machine without internet), started by a script file
    rather than FastAPI's inline one, so /docs and /openapi.json send the pages' security
    headers and the page runs under their Content-Security-Policy."""
    if not (pages.VENDOR_DIR / "swagger-ui" / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"{pages.VENDOR_DIR}/swagger-ui is missing: run `make assets`")
    html = DOCS_PAGE.replace("{{title}}", f"{app.title} - docs")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=pages.SECURITY_HEADERS)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi(), headers=pages.SECURITY_HEADERS)


async def _prepare_graph(graph: VerdictGraph, store: VerdictStore,
                         retry_seconds: float = 2.0) -> None:
    """The Review schema, then every stored verdict projected again (a lost graph heals).

    Retried with backoff until it succeeds: a graph that is down at start must not stop
    the api (/ready reports it), and once it answers it gets every verdict back.
    """
    while True:
        try:
            await graph.ensure_schema()
            await restore_verdicts(graph, store)
            return
        except (DriverError, Neo4jError, GraphTimeout, OSError,
                VerdictStoreUnavailable) as error:
            log.warning("could not project the verdicts into the graph yet: %s", error,
                        extra={"retry_in_seconds": retry_seconds})
        await asyncio.sleep(retry_seconds)
        retry_seconds = min(retry_seconds * 2, 60.0)


def _map_errors(app: FastAPI) -> None:
    """Domain and graph failures become clear 4xx/5xx JSON answers."""

    async def bad_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, BadRequest)
        return JSONResponse(error.body(), status_code=422)

    async def timeout(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=504)

    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("graph unavailable: %s", error)
        return JSONResponse({"detail": "graph unavailable"}, status_code=503)

    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(GraphTimeout, timeout)
    app.add_exception_handler(DriverError, unavailable)

    async def store_unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("verdict table unavailable: %s", error)
        return JSONResponse({"detail": "verdict store unavailable"}, status_code=503)

    app.add_exception_handler(VerdictStoreUnavailable, store_unavailable)

    async def invalid_request(_: Request, error: Exception) -> JSONResponse:
        # Where and why only: echoing the input back fails on text no encoder takes (a
        # lone surrogate) and hands a caller's hostile value straight back out.
        assert isinstance(error, RequestValidationError)
        problems = [{"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
                    for item in error.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)
