"""In-memory twins of the ports, for the unit tier: they keep state as the real systems do
(what the graph holds, what was committed), record what was asked of them in one journal
so a test can check the order, and fail on demand. Beside the ports, so mypy proves each
one fits its port.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka import ConsumerRecord
from neo4j.exceptions import ServiceUnavailable

from labelgraph_graph_writer.adapters.kafka import CommitUnavailable, DeadLetterUnavailable
from labelgraph_graph_writer.domain import BatchPlan, ImageState, edges_per_label
from labelgraph_graph_writer.handlers import GraphWriter
from labelgraph_graph_writer.ports import EventStream, Planner
from labelgraph_graph_writer.tallies import (
    OFFSETS,
    TallyState,
    changed_values,
    changes,
    day_values,
    merged_rows,
    registry_of,
    shard_rows,
    stored_cells,
)


@dataclass
class FakeGraph:
    """Holds each image's state as the planner leaves it. Refuses every batch holding
    `poison` with `refusal`, fails the next calls with `failures`, and while `down` fails
    every call as a stopped server does."""

    journal: list[str] = field(default_factory=list)
    poison: str | None = None
    refusal: Exception = field(default_factory=lambda: ValueError("cannot store that"))
    failures: list[Exception] = field(default_factory=list)
    down: bool = False
    held: dict[str, ImageState] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    # each Tally node's key (tallies.TallyKey) -> its properties
    tallies: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    now: float = 0.0  # the clock tallies are stamped with
    tally_marker: TallyState | None = None  # the TallyState node
    # each Label's edge counter (None: a label written before the counter)
    label_counts: dict[str, int | None] = field(default_factory=dict)

    async def ensure_schema(self) -> None:
        self._answer()

    async def write_batch(self, keys: list[str], planner: Planner) -> BatchPlan:
        self.calls.append(keys)
        self._answer()
        if self.poison in keys:
            raise self.refusal
        plan = planner({key: self.held[key] for key in keys if key in self.held})
        self.held |= plan.after
        for row in plan.tallies:
            self._add_tally(row)
        self._add_label_edges(plan)
        self.written += keys
        self.journal.append(f"wrote {plan.written}")  # labellings, not stale replays
        return plan

    async def ping(self) -> None:
        self._answer()

    async def tally_state(self) -> TallyState | None:
        self._answer()
        return self.tally_marker

    async def mark_tallies(self, state: TallyState) -> None:
        self._answer()
        self.journal.append(f"tallies complete: {state.complete}, "
                            f"counts several detectors: {state.counts_several}")
        self.tally_marker = state

    async def holds_images(self) -> bool:
        self._answer()
        return bool(self.held)

    async def image_dates(self) -> list[str]:
        self._answer()
        return sorted({state.isodate[:10] for state in self.held.values()})

    async def count_uncounted(self, date: str, limit: int) -> int:
        self._answer()
        claimed = [key for key, state in sorted(self.held.items())
                   if state.isodate[:10] == date and not state.tallied][:limit]
        for key in claimed:
            self.held[key] = replace(self.held[key], tallied=True)
        for row in changes([], [facts for key in claimed
                                if (facts := self.held[key].facts()) is not None]):
            self._add_tally(row)
        return len(claimed)

    async def fill_label_counts(self, limit: int) -> int:
        self._answer()
        uncounted = sorted(name for name, count in self.label_counts.items()
                           if count is None)[:limit]
        for name in uncounted:
            self.label_counts[name] = self.degree(name)
        return len(uncounted)

    def degree(self, label: str) -> int:
        """The label's edges in the graph held: one per image and detector that found it."""
        return sum(edges_per_label(state.labels)[label] for state in self.held.values())

    def _add_label_edges(self, plan: BatchPlan) -> None:
        # As SHARED_NODES and ADD_LABEL_EDGES do: a new label starts at 0, and a label
        # without a counter stays without (null + n is null).
        for name in plan.shared.get("labels", []):
            self.label_counts.setdefault(name, 0)
        for row in plan.label_counts:
            held = self.label_counts.get(row["label"])
            self.label_counts[row["label"]] = None if held is None else held + row["delta"]

    async def fold_settled_days(self, settled_before: float, limit: int) -> int:
        self._answer()
        settled = sorted(key for key, props in self.tallies.items()
                         if props.get("folded") is False
                         and props["touched_at"] < settled_before)[:limit]
        for day in settled:
            self._add_shards(shard_rows(day, stored_cells(self.tallies[day])))
            self.tallies[day]["folded"] = True
            registry = self.tallies[registry_of(day[1])]
            registry["dates"] = [date for date in registry["dates"] if date != day[2]]
        return len(settled)

    def _add_tally(self, row: dict[str, Any]) -> None:
        # As READ_TALLIES, WRITE_TALLIES and REGISTER_UNFOLDED do: a property counting
        # nothing is gone, a new day is registered unfolded, and a change to a folded day
        # goes to its thin tallies too.
        key = (row["level"], row["camera"], row["period"])
        created = key not in self.tallies
        if created:
            self.tallies[key] = {"folded": False}
            registry = self.tallies.setdefault(registry_of(key[1]), {"dates": []})
            registry["dates"] = [*registry["dates"], key[2]]
        tally = self.tallies[key]
        for name, value in day_values(row, tally, tally.get(OFFSETS), created).items():
            if value is None:
                tally.pop(name, None)
            else:
                tally[name] = value
        tally["touched_at"] = self.now
        if tally["folded"]:
            self._add_shards(shard_rows(key, row["deltas"]))

    def _add_shards(self, rows: list[dict[str, Any]]) -> None:
        for row in merged_rows(rows):
            held = self.tallies.setdefault((row["level"], row["camera"], row["period"],
                                            row["shard"]), {})
            for name, value in changed_values(row, held).items():
                if value is None:
                    held.pop(name, None)
                else:
                    held[name] = value

    def _answer(self) -> None:
        if self.down:
            raise ServiceUnavailable("graph down")
        if self.failures:
            raise self.failures.pop(0)


@dataclass
class FakeDeadLetters:
    """Keeps (offset, reason) of each dead letter; refuses the next `unavailable` sends."""

    journal: list[str] = field(default_factory=list)
    sent: list[tuple[int, str]] = field(default_factory=list)
    unavailable: int = 0

    async def publish(self, record: ConsumerRecord, reason: str) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise DeadLetterUnavailable("broker away")
        self.sent.append((record.offset, reason))
        self.journal.append(f"dead-lettered {record.offset}")


@dataclass
class FakeEventStream:
    """Hands out `batches` one a read (then nothing), keeps the committed offsets, and
    refuses the next `commit_failures` commits as an unreachable broker does."""

    journal: list[str] = field(default_factory=list)
    batches: list[list[ConsumerRecord]] = field(default_factory=list)
    committed: dict[int, int] = field(default_factory=dict)
    commit_failures: int = 0
    reads: int = 0
    topic: str = "image-labels"
    assigned: bool = True
    epoch: int | None = 1

    async def next_batch(self, max_records: int) -> list[ConsumerRecord]:
        self.reads += 1
        await asyncio.sleep(0)  # a real read yields to the loop, even when empty
        return self.batches.pop(0)[:max_records] if self.batches else []

    async def commit(self, records: list[ConsumerRecord], epoch: int | None) -> dict[int, int]:
        if self.commit_failures:
            self.commit_failures -= 1
            raise CommitUnavailable("broker away")
        offsets: dict[int, int] = {}
        for record in records:
            offsets[record.partition] = max(offsets.get(record.partition, 0), record.offset + 1)
        self.committed.update(offsets)
        self.journal.append(f"committed {offsets}")
        return offsets

    async def check(self) -> str | None:
        return None

    async def idle(self, seconds: float) -> None:
        await asyncio.sleep(0)


@dataclass
class FakeWorld:
    """A writer over a fake graph and dead-letter topic, its fake stream, and the one
    journal all three write to."""

    writer: GraphWriter
    graph: FakeGraph
    dead_letters: FakeDeadLetters
    stream: FakeEventStream
    journal: list[str]


def fake_world(excluded_cameras: frozenset[str] = frozenset(), **graph: Any) -> FakeWorld:
    """The writer's outside world faked; `graph` sets FakeGraph's failure options."""
    journal: list[str] = []
    fake_graph = FakeGraph(journal, **graph)
    dead_letters = FakeDeadLetters(journal)
    stream = FakeEventStream(journal)
    _fits: EventStream = stream  # the loop's port, checked here since tests are not typed
    return FakeWorld(GraphWriter(fake_graph, dead_letters, excluded_cameras), fake_graph,
                     dead_letters, stream, journal)
