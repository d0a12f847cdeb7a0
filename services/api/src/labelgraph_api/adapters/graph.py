"""The Bolt session every graph adapter runs its statements through, under a timeout."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from neo4j import AsyncDriver, AsyncGraphDatabase, Query
from neo4j.exceptions import ClientError

from labelgraph_api.config import ApiSettings

Row = dict[str, Any]


class GraphTimeout(Exception):
    """A graph query ran longer than the configured timeout."""


def open_driver(settings: ApiSettings) -> AsyncDriver:
    # Retries of a lost connection end within half the query budget, so an unreachable
    # graph answers 503 rather than running into the timeout's 504.
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_transaction_retry_time=settings.query_timeout_seconds / 2)


class GraphSession:
    """Runs one statement of queries.py with parameters only, under the query timeout."""

    def __init__(self, driver: AsyncDriver, database: str, timeout: float) -> None:
        self._driver = driver
        self._database = database
        self._timeout = timeout

    async def rows(self, query: str, **parameters: Any) -> list[Row]:
        """The rows of one read statement."""
        return await self._run(query, "r", parameters)

    async def write(self, query: str, **parameters: Any) -> list[Row]:
        """The rows of one write statement (sent to the writer)."""
        return await self._run(query, "w", parameters)

    async def ping(self) -> None:
        """Raise unless the graph answers."""
        await self._driver.verify_connectivity()

    async def _run(self, query: str, routing: Literal["r", "w"], parameters: dict[str, Any]
                   ) -> list[Row]:
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
        # Every statement returns plain values, maps and lists (no nodes): dict(items()) takes
        # them as they are, where record.data() walks each value to convert graph types
        # (20-50 ms a request on the million-image bench's pages).
        return [dict(record.items()) for record in records]
