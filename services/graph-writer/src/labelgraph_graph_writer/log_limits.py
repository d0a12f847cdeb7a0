"""Bounds the client libraries' logs: while a server is down they repeat a line every
100 ms (aiokafka reconnecting, the Bolt driver's retries); the writer's own readiness
lines already say what is wrong, once per change."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# Libraries whose repeated lines are limited, and how often one line may repeat.
CLIENT_LOGGERS = ("aiokafka", "neo4j")
REPEAT_SECONDS = 60.0


class RepeatLimiter(logging.Filter):
    """Passes each message template of each logger at most once per `seconds`; the next
    line that passes carries `suppressed_repeats`, the count held back meanwhile."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._seconds = seconds
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self._clock()
        passed_at, held_back = self._seen.get(key, (-self._seconds, 0))
        if now - passed_at < self._seconds:
            self._seen[key] = (passed_at, held_back + 1)
            return False
        self._seen[key] = (now, 0)
        if held_back:
            record.suppressed_repeats = held_back
        return True


def limit_client_logs(seconds: float = REPEAT_SECONDS) -> None:
    """Attach one limiter to every logger of the client libraries (idempotent).

    A logger's filters see only its own records, so each module's logger gets it; call
    this after the clients are imported, when their loggers exist.
    """
    limiter = RepeatLimiter(seconds)
    names = [name for name in logging.root.manager.loggerDict
             if any(name == prefix or name.startswith(prefix + ".") for prefix in CLIENT_LOGGERS)]
    for name in {*CLIENT_LOGGERS, *names}:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RepeatLimiter) for existing in logger.filters):
            logger.addFilter(limiter)
