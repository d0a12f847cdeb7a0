"""Neo4j (or any Bolt server speaking the portable Cypher subset)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from labelgraph_graph_writer import cypher
from labelgraph_graph_writer.domain import BatchPlan, ImageState

Planner = Callable[[Mapping[str, ImageState]], BatchPlan]

# Worth retrying: the server is down or restarting, or a concurrent MERGE collided
# (ArcadeDB reports that as a ConstraintError, which the driver does not retry).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ServiceUnavailable, SessionExpired, TransientError, ConstraintError, OSError,
)


class LabelGraph:
    """The analytics graph: its schema, batch writes, and the wipe before a rebuild."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self._driver = driver
        self._database = database

    async def ensure_schema(self) -> None:
        """Create the constraints and indexes (idempotent) before the first write."""
        async with self._driver.session(database=self._database) as session:
            for statement in cypher.SCHEMA:
                await (await session.run(statement)).consume()

    async def write_batch(self, keys: list[str], planner: Planner) -> BatchPlan:
        """Read what the graph holds for `keys`, then write planner's plan: one transaction."""
        async with self._driver.session(database=self._database) as session:
            plan: BatchPlan = await session.execute_write(_read_and_write, keys, planner)
            return plan

    async def wipe(self, chunk: int = 10_000) -> int:
        """Delete every node of the model (and so every relationship); returns the count."""
        deleted = 0
        async with self._driver.session(database=self._database) as session:
            for statement in cypher.WIPE:
                while True:
                    record = await (await session.run(statement, chunk=chunk)).single()
                    count = record["deleted"] if record else 0
                    deleted += count
                    if count < chunk:
                        break
        return deleted

    async def ping(self) -> None:
        """Raise unless the graph answers a query."""
        async with self._driver.session(database=self._database) as session:
            await (await session.run(cypher.PING)).consume()


async def _read_and_write(tx: AsyncManagedTransaction, keys: list[str],
                          planner: Planner) -> BatchPlan:
    result = await tx.run(cypher.HELD_IMAGES, keys=keys)
    held = {record["object_key"]: ImageState(record["isodate"] or "", dict(
        zip(record["detectors"] or [], record["versions"] or [], strict=True)))
        async for record in result}
    plan = planner(held)
    for name, values in plan.shared.items():
        if values:
            await _run(tx, cypher.SHARED_NODES[name], **{name: values})
    steps = ((cypher.UPSERT_IMAGES, "rows", plan.images),
             (cypher.UNLINK_IMAGES, "keys", plan.unlink),
             (cypher.LINK_IMAGES, "rows", plan.link),
             (cypher.DROP_LABELLINGS, "rows", plan.replace),
             (cypher.CREATE_LABEL_EDGES, "rows", plan.label_rows))
    for statement, parameter, values in steps:
        if values:
            await _run(tx, statement, **{parameter: values})
    return plan


async def _run(tx: AsyncManagedTransaction, statement: str, **parameters: object) -> None:
    await (await tx.run(statement, parameters)).consume()
