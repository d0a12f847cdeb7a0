"""What the use cases need of each outside system, and nothing more.

The handlers and the loop are typed on these; bootstrap hands in the real adapters
(adapters/), the unit tests the twins of labelgraph_graph_writer.fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from aiokafka import ConsumerRecord

from labelgraph_graph_writer.domain import BatchPlan, ImageState
from labelgraph_graph_writer.tallies import TallyState

Planner = Callable[[Mapping[str, ImageState]], BatchPlan]


class GraphRepository(Protocol):
    """The analytics graph (Neo4j or any Bolt server)."""

    async def ensure_schema(self) -> None:
        """Create the constraints and indexes (idempotent)."""
        ...

    async def write_batch(self, keys: list[str], planner: Planner) -> BatchPlan:
        """Read what the graph holds for `keys`, write planner's plan: one transaction."""
        ...

    async def ping(self) -> None:
        """Raise unless the graph answers a query."""
        ...

    async def tally_state(self) -> TallyState | None:
        """What the graph says of its tallies; None when it says nothing of this version."""
        ...

    async def mark_tallies(self, state: TallyState) -> None:
        """Record what the tallies count (the api reads it)."""
        ...

    async def holds_images(self) -> bool: ...

    async def image_dates(self) -> list[str]:
        """Every local date the graph holds images of, ascending."""
        ...

    async def fold_settled_days(self, settled_before: float, limit: int) -> int:
        """Fold up to `limit` day tallies not written since `settled_before` (epoch
        seconds) into their months; returns how many it found."""
        ...

    async def fill_label_counts(self, limit: int) -> int:
        """Give up to `limit` labels without an edge counter their degree (one
        transaction); returns how many it counted."""
        ...

    async def count_uncounted(self, date: str, limit: int) -> int:
        """Add up to `limit` images of a date that no tally counts yet (one transaction);
        returns how many it claimed."""
        ...


class DeadLetterQueue(Protocol):
    """Where unusable messages go, with why (a Kafka topic)."""

    async def publish(self, record: ConsumerRecord, reason: str) -> None:
        """Raises DeadLetterUnavailable when the broker does not take it in time."""
        ...


class EventStream(Protocol):
    """The label topic, read in batches by a consumer group, committed only when told."""

    @property
    def topic(self) -> str: ...

    @property
    def assigned(self) -> bool:
        """Whether this member holds partitions."""
        ...

    @property
    def epoch(self) -> int | None:
        """The current assignment's number (None while rebalancing): read before a batch."""
        ...

    async def next_batch(self, max_records: int) -> list[ConsumerRecord]: ...

    async def commit(self, records: list[ConsumerRecord], epoch: int | None) -> dict[int, int]:
        """Commit past records read under `epoch`; partition -> offset, {} if reassigned
        since. Raises CommitUnavailable when the broker does not answer in time."""
        ...

    async def check(self) -> str | None:
        """None when the broker answers with the topic, else why not."""
        ...

    async def idle(self, seconds: float) -> None:
        """Wait without consuming, keeping this member in the group."""
        ...
