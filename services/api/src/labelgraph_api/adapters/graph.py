"""Access to the label graph: runs the statements of queries.py, parameters only."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from neo4j import AsyncDriver, Query
from neo4j.exceptions import ClientError

from labelgraph_api import queries
from labelgraph_api.domain import review_key, stored_boxes


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
        # The server cancels the transaction at the timeout (the client's wait only stops
        # waiting); the client's own bound covers a server that ignores it (ArcadeDB).
        statement = Query(query, timeout=self._timeout)  # type: ignore[arg-type]
        try:
            async with asyncio.timeout(self._timeout):
                records, _, _ = await self._driver.execute_query(
                    statement, parameters, database_=self._database, routing_=routing)
        except TimeoutError as error:
            raise GraphTimeout(f"graph query exceeded {self._timeout}s") from error
        except ClientError as error:
            if error.code and "Timeout" in error.code:
                raise GraphTimeout(f"graph query exceeded {self._timeout}s") from error
            raise
        return [record.data() for record in records]

    async def ping(self) -> None:
        await self._driver.verify_connectivity()

    async def ensure_schema(self) -> None:
        """Create the Review key constraint and object-key index (idempotent)."""
        for statement in queries.SCHEMA:
            await self._rows(statement, routing="w")

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        """The rows of one read statement of queries.py."""
        return await self._rows(query, **parameters)

    async def dates(self) -> list[str]:
        """Every camera-local date the time tree holds (a few hundred a year), in no order."""
        return [row["iso_date"] for row in await self._rows(queries.DATES)]

    async def images(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        """Image items of one of the paging statements, labels sorted, nulls dropped."""
        return _clean(await self._rows(query, **parameters))

    async def image(self, object_key: str) -> dict[str, Any] | None:
        rows = _clean(await self._rows(queries.IMAGE, object_key=object_key, detector=None))
        if not rows:
            return None
        # OPTIONAL MATCH with no review collects one all-null map, as for labels.
        reviews = [review for review in rows[0]["reviews"] if review["label"] is not None]
        return {**rows[0], "reviews": sorted(reviews, key=lambda review: review["label"])}

    async def image_exists(self, object_key: str) -> bool:
        return bool(await self._rows(queries.IMAGE_EXISTS, object_key=object_key))

    async def project_verdicts(self, verdicts: list[dict[str, Any]]) -> None:
        """Write verdicts onto their Review nodes (newest wins); the table is their record."""
        rows = [{**verdict, "review_key": review_key(verdict["object_key"], verdict["label"])}
                for verdict in verdicts]
        await self._rows(queries.PROJECT_VERDICTS, routing="w", verdicts=rows)

    async def graph_verdicts(self) -> list[dict[str, Any]]:
        return await self._rows(queries.GRAPH_VERDICTS)


def _clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # OPTIONAL MATCH with no label collects one all-null map: drop it; most confident first.
    for row in rows:
        row["detectors"] = row["detectors"] or []
        row["labels"] = sorted(({**label, "boxes": stored_boxes(label["boxes"])}
                                for label in row["labels"] if label["name"] is not None),
                               key=lambda label: (-label["confidence"], label["name"]))
    return rows
