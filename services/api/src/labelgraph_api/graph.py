"""Read access to the label graph: each method runs one statement of queries.py."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver

from labelgraph_api import queries


class GraphReader:
    """Runs the api's read queries with parameters only."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self._driver = driver
        self._database = database

    async def _rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        records, _, _ = await self._driver.execute_query(
            query, parameters, database_=self._database, routing_="r"
        )
        return [record.data() for record in records]

    async def ping(self) -> None:
        await self._driver.verify_connectivity()

    async def cameras(self) -> list[dict[str, Any]]:
        return await self._rows(queries.CAMERAS)

    async def image(self, object_key: str) -> dict[str, Any] | None:
        rows = await self._rows(queries.IMAGE, object_key=object_key)
        if not rows:
            return None
        row = rows[0]
        # OPTIONAL MATCH with no label collects one all-null map: drop it.
        row["labels"] = sorted(
            (label for label in row["labels"] if label["name"] is not None),
            key=lambda label: -label["confidence"],
        )
        return row
