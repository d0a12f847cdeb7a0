"""What the api builds at start-up is kept out of the cyclic collector's full passes."""

from __future__ import annotations

import asyncio
import gc

import pytest

from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings


def test_start_up_freezes_what_it_built(monkeypatch: pytest.MonkeyPatch) -> None:
    # No server is reached: the driver connects lazily, boto3 clients make no request, and
    # the background schema task is cancelled as the lifespan ends.
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.setenv("API_KEYS", "key")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    app = create_app(ApiSettings())
    gc.unfreeze()

    async def start_and_stop() -> int:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            assert app.state.links is not None
        return frozen

    try:
        assert asyncio.run(start_and_stop()) > 10_000
    finally:
        gc.unfreeze()
