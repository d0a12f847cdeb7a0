"""Waiting out transient failures: doubling waits up to a cap, reported to readiness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from labelgraph_graph_writer.metrics import RETRIES
from labelgraph_graph_writer.readiness import Condition, Readiness

T = TypeVar("T")


class Stopping(Exception):
    """The service was told to stop: leave the batch in hand (it is read again at start)."""


Wait = Callable[[float], Awaitable[None]]
"""Waits the given seconds; raises Stopping when the service stops meanwhile."""


@dataclass(frozen=True)
class Retry:
    """The one retry policy of the writer, for graph writes, commits and dead letters."""

    readiness: Readiness
    wait: Wait
    initial_seconds: float = 0.5
    max_seconds: float = 30.0

    def delays(self) -> Iterator[float]:
        delay = self.initial_seconds
        while True:
            yield delay
            delay = min(delay * 2, self.max_seconds)

    async def until_done(self, condition: Condition, operation: Callable[[], Awaitable[T]],
                         transient: tuple[type[Exception], ...]) -> T:
        """operation(), again after each transient failure; any other error is raised.

        The condition is failing while retries go on and clear once they end either way.
        """
        delays = self.delays()
        while True:
            try:
                result = await operation()
            except transient as error:
                self.readiness.report(condition, f"retrying after {type(error).__name__}",
                                      str(error))
                RETRIES.labels(str(condition)).inc()
                await self.wait(next(delays))
                continue
            except BaseException:
                self.readiness.report(condition, None)
                raise
            self.readiness.report(condition, None)
            return result
