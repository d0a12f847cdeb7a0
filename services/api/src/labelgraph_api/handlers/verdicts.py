"""Use cases of reviewers' verdicts: the table is their system of record, the graph a copy.

A verdict is stored in the verdict table first, then projected into the graph (a Review
node keyed by image and label, joined to its image by object key, not by an edge, so a
rebuild of the images keeps it). Whatever the graph lost, restore_verdicts projects again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from labelgraph_api.domain import StoredVerdict
from labelgraph_api.ports import GraphReads, VerdictGraph, VerdictStore
from labelgraph_api.verdict_history import VerdictNotFound

log = logging.getLogger(__name__)

PROJECTION_BATCH = 500


async def record_verdict(reads: GraphReads, graph: VerdictGraph, store: VerdictStore, *,
                         object_key: str, label: str, present: bool, reviewer: str,
                         sampled: bool = False) -> StoredVerdict | None:
    """Store a verdict, then project it; None when the graph knows no such image.

    The label is kept as the graph spells it when it knows it in another case, so a
    verdict on `person` judges the detector's `Person`. An image the random sample drew
    stays in the sample when judged again in another mode."""
    if not await graph.image_exists(object_key):
        return None
    spelled = await reads.label_named(label) or label
    sampled = sampled or await graph.was_sampled(object_key, spelled)
    stored = await store.record(_stamped(object_key, spelled, present, reviewer, sampled))
    await graph.project([stored])
    return stored


async def record_verdicts(reads: GraphReads, graph: VerdictGraph, store: VerdictStore, *,
                          object_keys: Sequence[str], label: str, present: bool,
                          reviewer: str) -> tuple[list[StoredVerdict], list[str]]:
    """One verdict on each of several images, each stored as a single one is (with its own
    time and history), then projected together; returns them and the keys of no image."""
    asked = list(dict.fromkeys(object_keys))
    known = await graph.images_existing(asked)
    spelled = await reads.label_named(label) or label
    stored = [await store.record(_stamped(key, spelled, present, reviewer))
              for key in asked if key in known]
    if stored:
        await graph.project(stored)
    return stored, [key for key in asked if key not in known]


@dataclass(frozen=True)
class Undone:
    """An undone verdict and the one in force after it (None: the image is unjudged)."""

    undone: StoredVerdict
    in_force: StoredVerdict | None


async def undo_verdict(graph: VerdictGraph, store: VerdictStore, *, object_key: str,
                       label: str, reviewed_at: datetime, reviewer: str) -> Undone:
    """Undo the verdict in force (given at `reviewed_at`): the table keeps it in the history,
    marked undone by `reviewer`; the previous verdict is in force again, in the graph too.
    VerdictNotFound when no such verdict was given, NotTheLatest when a later one was."""
    given_at = stamp(reviewed_at)
    history = await store.undo(object_key, label, given_at, reviewer, stamp(datetime.now(UTC)))
    if history is None:
        raise VerdictNotFound(given_at)
    entry = next(entry for entry in history.entries if entry.reviewed_at == given_at)
    undone = StoredVerdict(object_key, label, entry.present, entry.reviewer, given_at)
    await graph.withdraw(undone, history.current)
    return Undone(undone, history.current)


async def verdict_history(store: VerdictStore, object_key: str) -> list[dict[str, object]]:
    """Every verdict given on the image, newest first, with who gave it and when."""
    entries = [{"label": history.label, **entry.as_row()}
               for history in await store.history(object_key) for entry in history.entries]
    return sorted(entries, key=lambda entry: str(entry["reviewed_at"]), reverse=True)


def stamp(moment: datetime) -> str:
    """A verdict's time as the table stores it: UTC ISO 8601, one format, ordered as text."""
    return moment.astimezone(UTC).isoformat()


def _stamped(object_key: str, label: str, present: bool, reviewer: str,
             sampled: bool = False) -> StoredVerdict:
    return StoredVerdict(object_key=object_key, label=label, present=present,
                         reviewer=reviewer, reviewed_at=stamp(datetime.now(UTC)),
                         sampled=sampled)


async def restore_verdicts(graph: VerdictGraph, store: VerdictStore) -> int:
    """Project every stored verdict into the graph again; returns how many."""
    verdicts = await store.all()
    for batch in _batches(verdicts):
        await graph.project(list(batch))
    log.info("verdicts projected into the graph", extra={"verdicts": len(verdicts)})
    return len(verdicts)


async def adopt_graph_verdicts(graph: VerdictGraph, store: VerdictStore) -> int:
    """Copy verdicts that only the graph holds (graphs from before the table) into it."""
    found = await graph.graph_verdicts()
    taken = await store.put_if_newer(found)
    log.info("graph verdicts adopted into the table", extra={"found": len(found),
                                                             "taken": taken})
    return taken


def _batches(items: Sequence[StoredVerdict]) -> Iterator[Sequence[StoredVerdict]]:
    for start in range(0, len(items), PROJECTION_BATCH):
        yield items[start:start + PROJECTION_BATCH]
