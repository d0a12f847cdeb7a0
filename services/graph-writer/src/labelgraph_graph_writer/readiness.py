"""What /ready answers, owned in one place: each failing condition and why.

Every condition has exactly one reporter (named beside it), so two parts of the service
never overwrite each other's verdict; a change is logged once, never each retry.
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class Condition(StrEnum):
    """A reason the writer may not be ready, and who reports it."""

    PARTITIONS = "partitions"  # the consumer's rebalance listener: not yet in the group
    # (an idle member, without partitions, is ready: partitions bound the scale-out)
    GRAPH = "graph"  # the dependency watch: does the graph answer a query?
    BROKER = "broker"  # the dependency watch: does the broker answer, with the topic?
    GRAPH_WRITES = "graph_writes"  # the batch loop: a write (or the schema) being retried
    COMMITS = "commits"  # the batch loop: an offset commit being retried
    DEAD_LETTERS = "dead_letters"  # the batch loop: a dead letter being retried


class Readiness:
    """The failing conditions; ready when there are none."""

    def __init__(self, failing: dict[Condition, str] | None = None) -> None:
        self._failing: dict[Condition, str] = dict(failing or {})

    def report(self, condition: Condition, problem: str | None, detail: str = "") -> None:
        """Record the condition's state (None: fine); log only when it changes."""
        if self._failing.get(condition) == problem:
            return
        if problem is None:
            del self._failing[condition]
            log.info("recovered: %s", condition, extra={"condition": str(condition)})
        else:
            self._failing[condition] = problem
            log.warning("not ready: %s: %s", condition, problem, extra={
                "condition": str(condition), "problem": problem, "detail": detail[:500]})

    def reason(self) -> str | None:
        """None when ready, else every failing condition with its problem."""
        if not self._failing:
            return None
        return "; ".join(f"{condition}: {problem}" for condition, problem in self._failing.items())
