"""Use cases of reviewers' verdicts: the table is their system of record, the graph a copy.

A verdict is stored in the verdict table first, then projected into the graph (a Review
node keyed by image and label, joined to its image by object key, not by an edge, so a
rebuild of the images keeps it). Whatever the graph lost or missed (an undo while it was
down), restore_verdicts makes it show again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from labelgraph_api.domain import StoredVerdict
from labelgraph_api.ports import GraphReads, VerdictGraph, VerdictStore
from labelgraph_api.verdict_history import VerdictHistory, VerdictNotFound, graph_fix

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
    await graph.withdraw([(undone, history.current)])
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
    """Make every Review show the table's verdict in force (the api's start): project those
    the graph lacks or holds older, undo again what the graph missed, then adopt what only the
    graph holds. A page of the table at a time; returns how many Reviews were changed."""
    changed = 0
    async for histories in store.pages(PROJECTION_BATCH):
        changed += await _fix_reviews(graph, histories)
    adopted = await adopt_graph_verdicts(graph, store)
    log.info("graph made equal to the verdict table", extra={"reviews_changed": changed,
                                                              "adopted": adopted})
    return changed + adopted


async def _fix_reviews(graph: VerdictGraph, histories: list[VerdictHistory]) -> int:
    """One page of the table made true in the graph; how many Reviews it changed."""
    shown = {(verdict.object_key, verdict.label): verdict for verdict in
             await graph.reviews_of([(history.object_key, history.label)
                                     for history in histories])}
    fixes = [fix for history in histories if (fix := graph_fix(
        history, shown.get((history.object_key, history.label)))) is not None]
    # An undone verdict goes only while the graph shows it; a verdict in force is projected
    # newest-wins: a verdict given meanwhile (the api serves during the start) stays.
    withdrawals = [(fix.undone, fix.in_force) for fix in fixes if fix.undone is not None]
    projected = [fix.in_force for fix in fixes if fix.undone is None and fix.in_force]
    if withdrawals:
        await graph.withdraw(withdrawals)
    if projected:
        await graph.project(projected)
    return len(fixes)


async def adopt_graph_verdicts(graph: VerdictGraph, store: VerdictStore) -> int:
    """Copy verdicts that only the graph holds (graphs from before the table) into it, a page
    of Reviews at a time; one the table holds as undone stays undone."""
    found = taken = 0
    page = await graph.graph_verdicts(None, PROJECTION_BATCH)
    while page:
        found += len(page)
        taken += await store.put_if_newer(page)
        page = await graph.graph_verdicts(page[-1], PROJECTION_BATCH)
    log.info("graph verdicts adopted into the table", extra={"found": found, "taken": taken})
    return taken
