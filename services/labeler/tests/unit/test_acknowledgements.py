"""Deleting handled messages in batches: the logic, over a fake queue (no server)."""

from __future__ import annotations

import asyncio
import threading

from prometheus_client import REGISTRY

from labelgraph_devstack.polling import wait_until
from labelgraph_labeler.worker import Acknowledgements


class SlowQueue:
    """Records each DeleteMessageBatch; the first call waits until released."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.calls: list[list[str]] = []
        self.release = threading.Event()
        self.refuse = refuse

    def acknowledge_all(self, receipts: list[str]) -> list[str]:
        self.calls.append(list(receipts))
        if len(self.calls) == 1:
            self.release.wait(5)
        return [receipt for receipt in receipts if receipt in self.refuse]


def retried() -> float:
    return REGISTRY.get_sample_value("labeler_images_retried_total") or 0.0


async def acknowledge(queue: SlowQueue, receipts: list[str]) -> None:
    acks = Acknowledgements(queue)  # type: ignore[arg-type]
    deleting = asyncio.create_task(acks.run())
    acks.add(receipts[0])
    await wait_until(lambda: queue.calls, timeout=5)  # the first goes alone, at once
    for receipt in receipts[1:]:  # these arrive while that call is out
        acks.add(receipt)
    queue.release.set()
    acks.close()
    await asyncio.wait_for(deleting, 5)


def test_receipts_arriving_during_a_call_go_together_in_calls_of_at_most_ten():
    queue = SlowQueue()
    receipts = [f"r{index}" for index in range(24)]
    asyncio.run(acknowledge(queue, receipts))
    assert queue.calls == [receipts[:1], receipts[1:11], receipts[11:21], receipts[21:]]


def test_receipts_sqs_refuses_to_delete_are_counted_as_left_for_redelivery():
    before = retried()
    queue = SlowQueue(refuse=frozenset({"r2", "r3"}))
    asyncio.run(acknowledge(queue, ["r0", "r1", "r2", "r3"]))
    assert [r for call in queue.calls for r in call] == ["r0", "r1", "r2", "r3"]
    assert retried() == before + 2
