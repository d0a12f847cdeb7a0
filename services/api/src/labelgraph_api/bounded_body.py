"""Request bodies bounded before anything reads them into a parser."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("labelgraph_api")

# The largest body a route takes is a verdict: an object key of 1,024 bytes and two names of
# 256 characters, each character escaped in JSON at worst (\uXXXX, a pair for one outside
# the BMP), about 12.5 KiB. Nothing legitimate comes near 16 KiB.
MAX_BODY_BYTES = 16 * 1024


class BoundedBody:
    """413 for a body over `max_bytes`: a declared length is refused unread, an undeclared
    (chunked) one as soon as what arrived passes the bound; within it, the app gets the body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The HTTP server has already refused a Content-Length that is not a number, and it
        # never hands on more body than the length declared.
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body = await self._read_within_bound(receive)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _read_within_bound(self, receive: Receive) -> bytes | None:
        """The whole undeclared body, or None once it passes the bound."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return bytes(body)
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return bytes(body)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        log.warning("request body over %d bytes refused unparsed", self.max_bytes,
                    extra={"path": scope.get("path"), "max_bytes": self.max_bytes})
        refusal = JSONResponse({"detail": f"request body over {self.max_bytes} bytes"},
                               status_code=413, headers={"Connection": "close"})
        await refusal(scope, receive, send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands on the body read already, then what the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
