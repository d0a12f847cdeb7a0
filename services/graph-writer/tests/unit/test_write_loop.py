"""The consume loop over fakes: a batch is committed only once the graph holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiokafka import ConsumerRecord
from neo4j.exceptions import ServiceUnavailable

from labelgraph_contract import ImageLabeled, encode_event
from labelgraph_devstack import polling
from labelgraph_devstack.testing import CAPTURED, labelled_event
from labelgraph_graph_writer.fakes import FakeWorld, fake_world
from labelgraph_graph_writer.readiness import Readiness
from labelgraph_graph_writer.retrying import Retry
from labelgraph_graph_writer.worker import run_worker, waiting_on


def event(index: int, camera: str = "front") -> ImageLabeled:
    return labelled_event(f"alarms/{camera}/img_{index}.jpg", camera=camera,
                          captured=CAPTURED + timedelta(hours=index))


def record(offset: int, value: bytes | None = None) -> ConsumerRecord:
    item = event(offset)
    return ConsumerRecord("image-labels", 0, offset, 0, 0, item.object_key.encode(),
                          value if value is not None else encode_event(item).value,
                          None, 0, 0, [])


async def run_until(world: FakeWorld, done: Callable[[], bool],
                    readiness: Readiness | None = None) -> None:
    """Run the loop as the service does until `done` holds, then stop it."""
    async def loop(stop: asyncio.Event) -> None:
        retry = Retry(readiness or Readiness(), waiting_on(world.stream, stop),
                      initial_seconds=0.001, max_seconds=0.002)
        await run_worker(world.writer, world.stream, retry, stop, 100)
    await polling.run_until(loop, done)


@pytest.mark.asyncio
async def test_a_batch_is_committed_after_the_graph_wrote_it():
    world = fake_world()
    world.stream.batches = [[record(0), record(1), record(2)]]

    await run_until(world, lambda: world.stream.committed)

    assert world.journal == ["wrote 3", "committed {0: 3}"]
    assert sorted(world.graph.held) == sorted(event(i).object_key for i in range(3))


@pytest.mark.asyncio
async def test_a_replayed_batch_writes_nothing_new_and_is_committed_again():
    world = fake_world()
    world.stream.batches = [[record(0), record(1)], [record(0), record(1)]]

    await run_until(world, lambda: len(world.journal) == 4)

    assert world.journal == ["wrote 2", "committed {0: 2}", "wrote 0", "committed {0: 2}"]


@pytest.mark.asyncio
async def test_an_invalid_and_a_refused_message_are_dead_lettered_and_the_batch_committed():
    world = fake_world(poison=event(1).object_key)
    world.stream.batches = [[record(0), record(1), record(2, b"not json")]]

    await run_until(world, lambda: world.stream.committed)

    assert [offset for offset, _ in world.dead_letters.sent] == [2, 1]
    assert world.journal[-1] == "committed {0: 3}"
    assert world.graph.written.count(event(1).object_key) == 0


@pytest.mark.asyncio
async def test_while_the_graph_is_down_nothing_is_committed_and_stop_leaves_the_batch():
    world = fake_world(down=True)
    world.stream.batches = [[record(0), record(1)]]
    readiness = Readiness()
    reasons: list[str | None] = []

    def seen_down() -> bool:
        reasons.append(readiness.reason())
        return len(world.graph.calls) >= 3

    await run_until(world, seen_down, readiness)

    assert world.stream.committed == {} and world.graph.held == {}
    assert "graph_writes: retrying after ServiceUnavailable" in reasons


@pytest.mark.asyncio
async def test_the_graph_back_after_failures_gets_the_batch_then_the_commit():
    world = fake_world(failures=[ServiceUnavailable("restarting")] * 3)
    world.stream.batches = [[record(0)]]

    await run_until(world, lambda: world.stream.committed)

    assert len(world.graph.calls) == 4 and world.journal == ["wrote 1", "committed {0: 1}"]


@pytest.mark.asyncio
async def test_a_commit_the_broker_does_not_take_is_retried_until_it_does():
    world = fake_world()
    world.stream.batches = [[record(0)]]
    world.stream.commit_failures = 2

    await run_until(world, lambda: world.stream.committed)

    assert world.journal == ["wrote 1", "committed {0: 1}"]


@pytest.mark.asyncio
async def test_a_dead_letter_waits_for_the_broker_and_comes_before_the_commit():
    world = fake_world()
    world.dead_letters.unavailable = 2
    world.stream.batches = [[record(0, b"{}")]]

    await run_until(world, lambda: world.stream.committed)

    assert world.journal == ["dead-lettered 0", "committed {0: 1}"]


@pytest.mark.asyncio
async def test_excluded_cameras_are_committed_without_a_write():
    world = fake_world(frozenset({"front"}))
    world.stream.batches = [[record(0)]]

    await run_until(world, lambda: world.stream.committed)

    assert world.graph.held == {} and world.journal == ["wrote 0", "committed {0: 1}"]
