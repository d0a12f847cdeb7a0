"""Neo4j (or any Bolt server speaking the portable Cypher subset)."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction

from labelgraph_graph_writer import cypher


class LabelGraph:
    """Writes batches of image rows into the graph, one transaction per batch."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self._driver = driver
        self._database = database

    async def ensure_schema(self) -> None:
        """Create the constraints and indexes (idempotent) before the first write."""
        async with self._driver.session(database=self._database) as session:
            for statement in cypher.SCHEMA:
                await session.run(statement)

    async def write_images(self, rows: list[dict[str, Any]]) -> None:
        async with self._driver.session(database=self._database) as session:
            await session.execute_write(_write_images, rows)


async def _write_images(tx: AsyncManagedTransaction, rows: list[dict[str, Any]]) -> None:
    result = await tx.run(cypher.WRITE_IMAGES, images=rows)
    await result.consume()
