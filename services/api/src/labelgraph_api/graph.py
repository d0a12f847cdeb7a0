"""Access to the label graph: each method runs one statement of queries.py."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from neo4j import AsyncDriver

from labelgraph_api import queries
from labelgraph_api.domain import review_key


class GraphTimeout(Exception):
    """A graph query ran longer than the configured timeout."""


class GraphReader:
    """Runs the api's queries with parameters only, each under a timeout."""

    def __init__(self, driver: AsyncDriver, database: str, timeout: float) -> None:
        self._driver = driver
        self._database = database
        self._timeout = timeout

    async def _rows(self, query: str, routing: Literal["r", "w"] = "r", **parameters: Any
                    ) -> list[dict[str, Any]]:
        try:
            async with asyncio.timeout(self._timeout):
                records, _, _ = await self._driver.execute_query(
                    query, parameters, database_=self._database, routing_=routing)
        except TimeoutError as error:
            raise GraphTimeout(f"graph query exceeded {self._timeout}s") from error
        return [record.data() for record in records]

    async def ping(self) -> None:
        await self._driver.verify_connectivity()

    async def ensure_schema(self) -> None:
        """Create the Review key constraint and object-key index (idempotent)."""
        for statement in queries.SCHEMA:
            await self._rows(statement, routing="w")

    async def cameras(self) -> list[dict[str, Any]]:
        return await self._rows(queries.CAMERAS)

    async def labels(self, prefix: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
        return await self._rows(queries.LABELS, prefix=prefix, offset=offset, limit=limit)

    async def sightings(self, **scope: Any) -> list[dict[str, Any]]:
        return await self._rows(queries.SIGHTINGS, **scope)

    async def confidence_histogram(self, **scope: Any) -> list[dict[str, Any]]:
        return await self._rows(queries.CONFIDENCE_HISTOGRAM, **scope)

    async def images(self, labels: list[str] | None, **scope: Any) -> list[dict[str, Any]]:
        if labels:
            return _clean(await self._rows(queries.IMAGES_WITH_LABELS, first=labels[0],
                                           labels=labels, **scope))
        return _clean(await self._rows(queries.IMAGES, **scope))

    async def image(self, object_key: str) -> dict[str, Any] | None:
        rows = _clean(await self._rows(queries.IMAGE, object_key=object_key))
        if not rows:
            return None
        # OPTIONAL MATCH with no review collects one all-null map, as for labels.
        reviews = [review for review in rows[0]["reviews"] if review["label"] is not None]
        return {**rows[0], "reviews": sorted(reviews, key=lambda review: review["label"])}

    async def rollup(self, **scope: Any) -> list[dict[str, Any]]:
        return await self._rows(queries.ROLLUP, **scope)

    async def image_exists(self, object_key: str) -> bool:
        return bool(await self._rows(queries.IMAGE_EXISTS, object_key=object_key))

    async def project_verdicts(self, verdicts: list[dict[str, Any]]) -> None:
        """Write verdicts onto their Review nodes (newest wins); the table is their record."""
        rows = [{**verdict, "review_key": review_key(verdict["object_key"], verdict["label"])}
                for verdict in verdicts]
        await self._rows(queries.PROJECT_VERDICTS, routing="w", verdicts=rows)

    async def graph_verdicts(self) -> list[dict[str, Any]]:
        return await self._rows(queries.GRAPH_VERDICTS)

    async def reviewed(self, **scope: Any) -> list[dict[str, Any]]:
        return await self._rows(queries.REVIEWED, **scope)

    async def review_queue(self, **scope: Any) -> list[dict[str, Any]]:
        return _clean(await self._rows(queries.REVIEW_QUEUE, **scope))


def _clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # OPTIONAL MATCH with no label collects one all-null map: drop it; most confident first.
    for row in rows:
        row["detectors"] = row["detectors"] or []
        row["labels"] = sorted((label for label in row["labels"] if label["name"] is not None),
                               key=lambda label: (-label["confidence"], label["name"]))
    return rows
