"""Waiting for a condition in tests and tools: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

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


async def wait_until(probe: Callable[[], object | Awaitable[object]], timeout: float = 10,
                     interval: float = 0.001, what: str = "condition") -> None:
    """wait_for on an event loop: poll probe() (plain or async) until it holds, yielding
    to the loop between tries; fail after timeout."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = probe()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"{what} not met within {timeout}s") from None


async def run_until(loop: Callable[[asyncio.Event], Coroutine[Any, Any, object]],
                    done: Callable[[], object | Awaitable[object]], timeout: float = 10) -> None:
    """Run loop(stop) as a task until done() holds, then set stop and wait for the loop to
    end, as a service stops it; fail after timeout (a bound on a hang, not a measurement)."""
    stop = asyncio.Event()
    task = asyncio.create_task(loop(stop))
    await wait_until(done, timeout, what="the loop's condition")
    stop.set()
    await task
