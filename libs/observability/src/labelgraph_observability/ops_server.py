"""The small HTTP server a worker runs beside its loop: /health, /ready and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns None when ready, else the reason it is not."""


def ops_app(ready: ReadinessCheck, registry: CollectorRegistry = REGISTRY) -> Starlette:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readiness(_: Request) -> Response:
        reason = await ready()
        if reason is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/ready", readiness),
                             Route("/metrics", metrics)])


class OpsPortUnavailable(SystemExit):
    """The ops port cannot be bound: the process cannot be operated, so it stops.

    A SystemExit, as for a bad command line: the worker has nothing to clean up yet, and the
    person who started it gets one line naming the setting, not uvicorn's traceback.
    """

    def __init__(self, host: str, port: int, error: OSError) -> None:
        super().__init__(f"cannot serve the ops endpoints on {host}:{port}: {error.strerror} "
                         "(another process holds it? set the service's *_OPS_PORT)")


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OpsPortUnavailable(host, port, error) from None
    return sock


class _WorkerOwnedSignals(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the worker that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OpsServer:
    """Serves ops_app on host:port inside the caller's event loop."""

    def __init__(self, host: str, port: int, ready: ReadinessCheck) -> None:
        config = uvicorn.Config(ops_app(ready), host=host, port=port, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = _WorkerOwnedSignals(config)
        self._host, self._port = host, port
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve from now on; raises OpsPortUnavailable when the port cannot be bound."""
        # Bound here, not by uvicorn: uvicorn logs the error and calls sys.exit inside its
        # task, which surfaced as a traceback of an unretrieved task exception.
        sock = _bound_socket(self._host, self._port)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start (port in use...)
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
