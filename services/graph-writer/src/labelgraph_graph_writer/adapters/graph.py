"""Neo4j (or any Bolt server speaking the portable Cypher subset)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, Record
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConstraintError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from labelgraph_graph_writer import cypher
from labelgraph_graph_writer.domain import BatchPlan, ImageState, decode_version
from labelgraph_graph_writer.ports import Planner
from labelgraph_graph_writer.tallies import (
    TALLY_VERSION,
    ImageFacts,
    Row,
    TallyKey,
    TallyState,
    changed_values,
    changes,
    day_values,
    merged_rows,
    registry_of,
    shard_rows,
    stored_cells,
    tally_key_text,
)


class GraphUnavailable(Exception):
    """The graph refused the connection, not the data: it is restarting (see _session)."""


# Worth retrying without bound: the server is down, restarting, or busy.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ServiceUnavailable, SessionExpired, TransientError, GraphUnavailable, OSError,
)

# The graph (or the driver, packing the values) refused this write: it may be the data, so
# it is tried a bounded number of times. ConstraintError is one: a colliding concurrent
# MERGE on ArcadeDB, but deterministic on Neo4j with one writer.
REFUSALS: tuple[type[Exception], ...] = (Neo4jError, ValueError, TypeError)

# Settled days of one camera folded in one transaction: their month's shards (and all
# time's) are written once for them all, which is what a fold costs. A month at most.
FOLD_DAYS_AT_ONCE = 31

# What ArcadeDB answers when two writers MERGE one new key at once (measured: the second
# commit of the TallyState marker, `Neo.ClientError.Schema.ConstraintValidationFailed`).
# Retried where the key can only collide with a concurrent writer: the tally fill.
CONFLICTS: tuple[type[Exception], ...] = (ConstraintError,)

# A Bolt message the server did not expect in the connection's state: ArcadeDB answers so
# while it shuts down. It describes the connection, never the data sent.
_PROTOCOL_STATE = "Neo.ClientError.Request.Invalid"


def describe(error: Exception) -> str:
    """The error in one bounded line, for dead-letter reasons and logs."""
    if isinstance(error, Neo4jError):
        text = f"{type(error).__name__} {error.code}: {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:500]


class LabelGraph:
    """The analytics graph: its schema, batch writes, and the wipe before a rebuild."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self._driver = driver
        self._database = database
        self._accepted = False  # have the credentials ever been accepted?

    async def ensure_schema(self) -> None:
        """Create the constraints and indexes (idempotent) before the first write."""
        async with self._session() as session:
            for statement in cypher.SCHEMA:
                await (await session.run(statement)).consume()

    async def write_batch(self, keys: list[str], planner: Planner) -> BatchPlan:
        """Read what the graph holds for `keys`, then write planner's plan: one transaction."""
        async with self._session() as session:
            plan: BatchPlan = await session.execute_write(_read_and_write, keys, planner)
            return plan

    async def wipe(self, chunk: int = 10_000) -> int:
        """Delete every node of the model (and so every relationship); returns the count."""
        deleted = 0
        async with self._session() as session:
            for statement in cypher.WIPE:
                while True:
                    record = await (await session.run(statement, chunk=chunk)).single()
                    count = record["deleted"] if record else 0
                    deleted += count
                    if count < chunk:
                        break
        return deleted

    async def image_facts(self, camera: str | None, dates: list[str] | None
                          ) -> list[ImageFacts]:
        """What the tallies count of each image of a camera (None: all), on some local
        dates (None: every date), read from the edges."""
        async with self._session() as session:
            if dates is None:
                result = await session.run(cypher.IMAGE_FACTS, camera=camera)
            else:
                result = await session.run(cypher.IMAGE_FACTS_ON_DATES, camera=camera,
                                           dates=dates)
            return [_image_facts(record) async for record in result]

    async def tallies(self, camera: str | None) -> dict[TallyKey, dict[str, Any]]:
        """The tallies the graph holds for a camera (None: all): each node's properties."""
        async with self._session() as session:
            result = await session.run(cypher.TALLIES, camera=camera)
            return {tuple(json.loads(record["key"])): record["props"]
                    async for record in result}

    async def fold_settled_days(self, settled_before: float, limit: int) -> int:
        """Fold up to `limit` day tallies not written since `settled_before` into their
        shards, a transaction per camera and FOLD_DAYS_AT_ONCE days; returns how many it
        found."""
        async with self._session() as session:
            cameras = [record["camera"] async for record in
                       await session.run(cypher.CAMERA_NAMES) if record["camera"] is not None]
            result = await session.run(cypher.UNFOLDED_DATES, keys=[
                tally_key_text(registry_of(camera)) for camera in cameras])
            days = [tally_key_text(("day", record["camera"], date))
                    async for record in result for date in record["dates"] or []]
            result = await session.run(cypher.SETTLED_DAYS, keys=sorted(days),
                                       settled_before=settled_before)
            keys = sorted([record["key"] async for record in result])[:limit]
        by_camera: dict[str, list[str]] = {}
        for key in keys:
            by_camera.setdefault(json.loads(key)[1], []).append(key)
        for days in by_camera.values():
            for first in range(0, len(days), FOLD_DAYS_AT_ONCE):
                async with self._session() as session:
                    await session.execute_write(
                        _fold_days, days[first:first + FOLD_DAYS_AT_ONCE])
        return len(keys)

    async def set_tallies(self, rows: list[Row]) -> None:
        """Replace tallies' properties (recount.Recount.repairs' rows), in one transaction."""
        async with self._session() as session:
            await session.execute_write(_run, cypher.SET_TALLIES, rows=rows)

    async def tally_state(self) -> TallyState | None:
        """What the graph says of its tallies; None when it says nothing of this version."""
        async with self._session() as session:
            record = await (await session.run(cypher.TALLY_STATE)).single()
            if record is None or record["version"] != TALLY_VERSION:
                return None
            return TallyState(record["complete"] is True, record["counts_several"] is True)

    async def mark_tallies(self, state: TallyState) -> None:
        """Record what the tallies count (the api reads it)."""
        async with self._session() as session:
            await session.execute_write(_run, cypher.MARK_TALLIES, complete=state.complete,
                                        counts_several=state.counts_several,
                                        version=TALLY_VERSION)

    async def holds_images(self) -> bool:
        async with self._session() as session:
            return await (await session.run(cypher.ANY_IMAGE)).single() is not None

    async def image_dates(self) -> list[str]:
        """Every local date the graph holds images of, ascending."""
        async with self._session() as session:
            result = await session.run(cypher.IMAGE_DATES)
            return [record["iso_date"] async for record in result]

    async def count_uncounted(self, date: str, limit: int) -> int:
        """Add up to `limit` images of a date that no tally counts yet, in one transaction;
        returns how many it claimed (fewer than `limit`: none of the date is left)."""
        async with self._session() as session:
            claimed: int = await session.execute_write(_count_uncounted, date, limit)
            return claimed

    async def fill_label_counts(self, limit: int) -> int:
        """Give up to `limit` labels without an edge counter their degree, in one
        transaction; returns how many it counted (fewer than `limit`: none is left)."""
        async with self._session() as session:
            counted: int = await session.execute_write(
                _counted, cypher.FILL_LABEL_COUNTS, limit=limit)
            return counted

    async def recount_labels(self, names: list[str]) -> None:
        """Set the named labels' edge counters to their degrees, in one transaction."""
        async with self._session() as session:
            await session.execute_write(_counted, cypher.RECOUNT_LABELS, names=names)

    async def label_counts(self, names: list[str] | None) -> dict[str, tuple[int | None, int]]:
        """label -> (its edge counter, its degree), of the named labels (None: all)."""
        async with self._session() as session:
            result = await session.run(cypher.LABEL_COUNTS, names=names)
            return {record["label"]: (record["stored"], record["degree"])
                    async for record in result}

    async def ping(self) -> None:
        """Raise unless the graph answers a query."""
        async with self._session() as session:
            await (await session.run(cypher.PING)).consume()

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A session whose connection-level refusals are raised as GraphUnavailable.

        A wrong password stays an AuthError (permanent) until the credentials have worked
        once; after that, an AuthError is what a cleanly stopping server answers ("the
        credentials of this connection are no longer valid"), so it is transient.
        """
        try:
            async with self._driver.session(database=self._database) as session:
                yield session
        except AuthError as error:
            if self._accepted:
                raise GraphUnavailable(describe(error)) from error
            raise
        except ClientError as error:
            if error.code == _PROTOCOL_STATE:
                raise GraphUnavailable(describe(error)) from error
            raise
        self._accepted = True


async def _read_and_write(tx: AsyncManagedTransaction, keys: list[str],
                          planner: Planner) -> BatchPlan:
    result = await tx.run(cypher.HELD_IMAGES, keys=keys)
    held = {record["object_key"]: _held_state(record) async for record in result}
    plan = planner(held)
    for name, values in plan.shared.items():
        if values:
            await _run(tx, cypher.SHARED_NODES[name], **{name: values})
    steps = ((cypher.UPSERT_IMAGES, "rows", plan.images),
             (cypher.UNLINK_IMAGES, "keys", plan.unlink),
             (cypher.LINK_IMAGES, "rows", plan.link),
             (cypher.DROP_LABELLINGS, "rows", plan.replace),
             (cypher.CREATE_LABEL_EDGES, "rows", plan.label_rows),
             (cypher.ADD_LABEL_EDGES, "rows", plan.label_counts))
    for statement, parameter, values in steps:
        if values:
            await _run(tx, statement, **{parameter: values})
    await _add_tallies(tx, plan.tallies)
    return plan


async def _add_tallies(tx: AsyncManagedTransaction, rows: list[Row]) -> None:
    """Read the day tallies the rows change, add the changes, write them back; register
    the days just made as unfolded, and add a folded day's changes to its shards."""
    if not rows:
        return
    reads = [{"key": row["key"], "level": row["level"], "camera": row["camera"],
              "period": row["period"], "names": list(row["deltas"])} for row in rows]
    result = await tx.run(cypher.READ_TALLIES, rows=reads)
    held, offsets, folded, created = {}, {}, set(), set()
    async for record in result:
        held[record["key"]] = record["held"]
        offsets[record["key"]] = record["offsets"]
        if record["folded"]:
            folded.add(record["key"])
        if record["created"]:
            created.add(record["key"])
    writes = [{"key": row["key"], "values": day_values(
        row, dict(zip(row["deltas"], held[row["key"]], strict=True)), offsets[row["key"]],
        row["key"] in created)} for row in rows]
    await _run(tx, cypher.WRITE_TALLIES, rows=writes, touched_at=time.time())
    new_days: dict[str, list[str]] = {}
    for row in rows:
        if row["key"] in created:
            new_days.setdefault(row["camera"], []).append(row["period"])
    if new_days:
        await _run(tx, cypher.REGISTER_UNFOLDED, rows=[
            {"key": tally_key_text(registry_of(camera)), "camera": camera, "dates": dates}
            for camera, dates in sorted(new_days.items())])
    await _add_shards(tx, merged_rows(
        shard for row in rows if row["key"] in folded
        for shard in shard_rows((row["level"], row["camera"], row["period"]), row["deltas"])))


async def _add_shards(tx: AsyncManagedTransaction, rows: list[Row]) -> None:
    """Read the shards the rows change, add the changes, write them back."""
    if not rows:
        return
    result = await tx.run(cypher.READ_SHARDS, rows=[
        {"key": row["key"], "level": row["level"], "camera": row["camera"],
         "period": row["period"], "shard": row["shard"], "names": list(row["deltas"])}
        for row in rows])
    held = {record["key"]: record["held"] async for record in result}
    await _run(tx, cypher.WRITE_TALLIES, touched_at=time.time(), rows=[
        {"key": row["key"], "values": changed_values(
            row, dict(zip(row["deltas"], held[row["key"]], strict=True)))} for row in rows])


async def _fold_days(tx: AsyncManagedTransaction, keys: list[str]) -> int:
    """Add some settled days' (of one camera) counts to their shards, mark them folded and
    take them out of the camera's registry; returns how many were not folded already."""
    claimed = await (await tx.run(cypher.CLAIM_DAYS, keys=keys)).data()
    days = [(tuple(json.loads(row["key"])), row["props"]) for row in claimed
            if row["folded"] is False]
    if not days:
        return 0
    await _add_shards(tx, merged_rows(row for day, props in days
                                      for row in shard_rows(day, stored_cells(props))))
    await _run(tx, cypher.MARK_FOLDED, keys=[tally_key_text(day) for day, _ in days])
    await _run(tx, cypher.LEAVE_REGISTRY, registry=tally_key_text(registry_of(days[0][0][1])),
               dates=[day[2] for day, _ in days])
    return len(days)


async def _count_uncounted(tx: AsyncManagedTransaction, date: str, limit: int) -> int:
    claims = await (await tx.run(cypher.CLAIM_UNCOUNTED, date=date, limit=limit,
                                 version=TALLY_VERSION)).data()
    keys = [claim["object_key"] for claim in claims if claim["uncounted"]]
    if keys:
        result = await tx.run(cypher.IMAGE_FACTS_OF_KEYS, keys=keys, camera=None)
        await _add_tallies(tx, changes([], [_image_facts(record) async for record in result]))
    return len(claims)


async def _counted(tx: AsyncManagedTransaction, statement: str, **parameters: object) -> int:
    record = await (await tx.run(statement, parameters)).single()
    return int(record["counted"]) if record else 0


def _held_state(record: Record) -> ImageState:
    return ImageState(
        record["isodate"] or "",
        {detector: decode_version(text) for detector, text in
         zip(record["detectors"] or [], record["versions"] or [], strict=True)},
        record["camera"] or "", held_labels(record["labels"]),
        tallied=record["tally_version"] == TALLY_VERSION)


def _image_facts(record: Record) -> ImageFacts:
    return ImageFacts(record["camera"], record["isodate"],
                      tuple(sorted(record["detectors"] or [])), held_labels(record["labels"]))


def held_labels(edges: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """detector -> label -> confidence of collected edges (OPTIONAL MATCH's nulls dropped)."""
    labels: dict[str, dict[str, float]] = {}
    for edge in edges:
        if edge["label"] is not None:
            labels.setdefault(edge["detector"], {})[edge["label"]] = edge["confidence"]
    return labels


async def _run(tx: AsyncManagedTransaction, statement: str, **parameters: object) -> None:
    await (await tx.run(statement, parameters)).consume()
