"""The refused-key limiter's sliding window, on a clock the test moves."""

from __future__ import annotations

from labelgraph_api.deps import RefusedKeyLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_limited_at_the_limit_until_its_oldest_refusal_leaves_the_window():
    clock = FakeClock()
    limiter = RefusedKeyLimiter(3, 60, clock)
    assert [limiter.refuse("a") for _ in range(2)] == [False, False]
    clock.now += 30
    assert limiter.retry_after("a") is None
    assert limiter.refuse("a") is True
    assert limiter.retry_after("a") == 30  # the first two refusals leave at +60
    assert limiter.retry_after("b") is None  # per address
    clock.now += 30
    assert limiter.retry_after("a") is None  # a sliding window, not a fixed bucket
    assert [limiter.refuse("a") for _ in range(2)] == [False, True]
    assert limiter.retry_after("a") == 30  # the one of +30 leaves at +90


def test_idle_addresses_are_forgotten_so_memory_stays_bounded():
    clock = FakeClock()
    limiter = RefusedKeyLimiter(5, 10, clock)
    for index in range(5000):
        limiter.refuse(f"10.0.{index // 256}.{index % 256}")
        clock.now += 0.01  # 1,000 addresses per window
    assert len(limiter) <= 2048
