"""Use cases of reviewers' verdicts: the table is their system of record, the graph a copy.

A verdict is stored in the verdict table first, then projected into the graph (a Review
node keyed by image and label, joined to its image by object key, not by an edge, so a
rebuild of the images keeps it). Whatever the graph lost, restore_verdicts projects again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from labelgraph_api.domain import StoredVerdict
from labelgraph_api.ports import GraphReads, VerdictGraph, VerdictStore

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
    label = await reads.label_named(label) or label
    verdict = StoredVerdict(object_key=object_key, label=label, present=present,
                            reviewer=reviewer, reviewed_at=datetime.now(UTC).isoformat(),
                            sampled=sampled or await graph.was_sampled(object_key, label))
    stored = await store.record(verdict)
    await graph.project([stored])
    return stored


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
