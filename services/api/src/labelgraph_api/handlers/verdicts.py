"""Use cases of reviewers' verdicts: the table is their system of record, the graph a copy.

A verdict is stored in the verdict table first, then projected into the graph (a Review
node keyed by image and label, joined to its image by object key, not by an edge, so a
rebuild of the images keeps it). Whatever the graph lost, restore_verdicts projects again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

PROJECTION_BATCH = 500


@dataclass(frozen=True)
class StoredVerdict:
    """One reviewer's verdict on one label of one image, as the table stores it."""

    object_key: str
    label: str
    present: bool
    reviewer: str
    reviewed_at: str  # ISO 8601 in UTC, same format always, so it orders as a string

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


class VerdictStore(Protocol):
    async def record(self, verdict: StoredVerdict) -> StoredVerdict: ...
    async def all(self) -> list[StoredVerdict]: ...
    async def put_if_newer(self, verdicts: list[StoredVerdict]) -> int: ...


class VerdictGraph(Protocol):
    async def image_exists(self, object_key: str) -> bool: ...
    async def project_verdicts(self, verdicts: list[dict[str, Any]]) -> None: ...
    async def graph_verdicts(self) -> list[dict[str, Any]]: ...


async def record_verdict(graph: VerdictGraph, store: VerdictStore,
                         verdict: StoredVerdict) -> StoredVerdict | None:
    """Store a verdict, then project it; None when the graph knows no such image."""
    if not await graph.image_exists(verdict.object_key):
        return None
    stored = await store.record(verdict)
    await graph.project_verdicts([stored.as_row()])
    return stored


async def restore_verdicts(graph: VerdictGraph, store: VerdictStore) -> int:
    """Project every stored verdict into the graph again; returns how many."""
    verdicts = await store.all()
    for batch in _batches(verdicts):
        await graph.project_verdicts([verdict.as_row() for verdict in batch])
    log.info("verdicts projected into the graph", extra={"verdicts": len(verdicts)})
    return len(verdicts)


async def adopt_graph_verdicts(graph: VerdictGraph, store: VerdictStore) -> int:
    """Copy verdicts that only the graph holds (graphs from before the table) into it."""
    found = [StoredVerdict(**row) for row in await graph.graph_verdicts()]
    taken = await store.put_if_newer(found)
    log.info("graph verdicts adopted into the table", extra={"found": len(found),
                                                             "taken": taken})
    return taken


def _batches(items: Sequence[StoredVerdict]) -> Iterator[Sequence[StoredVerdict]]:
    for start in range(0, len(items), PROJECTION_BATCH):
        yield items[start:start + PROJECTION_BATCH]
