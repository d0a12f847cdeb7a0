"""Waiting for a condition in tests and tools: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float = 90, interval: float = 0.1,
             what: str = "condition") -> T:
    """Poll probe() until it returns something truthy, and return it; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s")
