"""The FastAPI application: clients are made in the lifespan, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from neo4j import AsyncGraphDatabase

from labelgraph_api.config import ApiSettings
from labelgraph_api.graph import GraphReader
from labelgraph_api.routes import health, images


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = AsyncGraphDatabase.driver(
            settings.neo4j_uri,
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        )
        app.state.graph = GraphReader(driver, settings.neo4j_database)
        try:
            yield
        finally:
            await driver.close()

    app = FastAPI(title="labelgraph", version="0.1.0", lifespan=lifespan,
                  description="Questions about what security cameras saw.")
    app.include_router(health.router)
    app.include_router(images.router)
    return app
