"""The queue loop over fakes: what becomes of each message, and of those in hand at stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from labelgraph_devstack import polling
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.domain import ImageRejected, backoff_delay
from labelgraph_labeler.fakes import FakeDetector, FakeWorld, fake_world
from labelgraph_labeler.worker import WorkerHealth, WorkerPolicy, run_worker

BUCKET = "security-alarms"
POLICY = WorkerPolicy(concurrency=2, broker_check_seconds=60, backoff_base_seconds=0.001,
                      backoff_max_seconds=0.002)


def upload(world: FakeWorld, name: str = "img") -> Upload:
    key = f"alarms/frontdoor/2016-11-05/07/{name}_20161105-071530.jpg"
    world.images.put(BUCKET, key)
    return Upload(BUCKET, key)


async def run_until(world: FakeWorld, done: Callable[[], bool],
                    health: WorkerHealth | None = None) -> None:
    """Run the worker until `done` holds, then stop it and wait for it to finish."""
    await polling.run_until(lambda stop: run_worker(world.labeler, world.queue, stop,
                                                    health or WorkerHealth(), POLICY), done)


@pytest.mark.asyncio
async def test_a_message_is_deleted_once_its_images_are_labelled_and_published():
    world = fake_world()
    receipt = world.queue.send(upload(world, "a"), upload(world, "b"))

    await run_until(world, lambda: world.queue.deleted)

    assert world.queue.deleted == [receipt]
    assert sorted(event.object_key.split("/")[-1] for event in world.publisher.published) == [
        "a_20161105-071530.jpg", "b_20161105-071530.jpg"]
    assert world.queue.dead_letters == [] and world.queue.released == []


@pytest.mark.asyncio
async def test_a_transient_failure_leaves_the_message_for_redelivery():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")))
    world.queue.send(upload(world), receives=1)

    await run_until(world, lambda: world.queue.polls >= 3 and not world.queue.waiting)

    # Neither deleted nor handed back: SQS shows it again after its visibility timeout.
    assert world.queue.handled == []


@pytest.mark.asyncio
async def test_a_transient_failure_on_the_last_receive_is_dead_lettered_as_exhausted():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")))
    receipt = world.queue.send(upload(world), receives=world.queue.max_receives)

    await run_until(world, lambda: world.queue.dead_letters)

    [(letter, reason, detail)] = world.queue.dead_letters
    assert (letter, reason) == (receipt, "retries_exhausted")
    assert "model server down" in detail and world.queue.deleted == []


@pytest.mark.asyncio
async def test_a_refused_image_dead_letters_its_message_with_the_reason():
    world = fake_world(good=FakeDetector(),
                       picky=FakeDetector(failure=ImageRejected("not a jpeg", "not_image")))
    receipt = world.queue.send(upload(world))

    await run_until(world, lambda: world.queue.dead_letters)

    assert world.queue.dead_letters == [(receipt, "not_image", "picky: not a jpeg")]
    # The other detector's labelling stands: a redrive redoes it harmlessly.
    assert [event.detector for event in world.publisher.published] == ["good"]
    assert world.queue.deleted == []


@pytest.mark.asyncio
async def test_a_body_that_is_no_s3_notification_is_dead_lettered():
    world = fake_world()
    receipt = world.queue.send(body="hello")

    await run_until(world, lambda: world.queue.dead_letters)

    assert [(letter, reason) for letter, reason, _ in world.queue.dead_letters] == [
        (receipt, "bad_notification")]


@pytest.mark.asyncio
async def test_what_a_poll_brings_after_stop_is_handed_back_at_once():
    world = fake_world()
    receipt = world.queue.send(upload(world))
    world.queue.answer_polls.clear()  # the first poll is out when stop comes
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(world.labeler, world.queue, stop, WorkerHealth(),
                                            POLICY))
    await asyncio.to_thread(world.queue.poll_started.wait, 5)
    stop.set()
    world.queue.answer_polls.set()
    await worker

    assert world.queue.released == [receipt]
    assert world.publisher.published == [] and world.queue.deleted == []


@pytest.mark.asyncio
async def test_while_the_broker_does_not_answer_messages_go_back_and_no_poll_follows():
    world = fake_world()
    receipt = world.queue.send(upload(world))
    world.publisher.down = "the Kafka broker cannot be reached"
    health = WorkerHealth()

    await run_until(world, lambda: world.queue.released, health)

    # Its publish would fail and spend one of the message's receives.
    assert world.queue.released == [receipt] and world.publisher.published == []
    assert world.queue.polls == 1
    assert await health.ready() == "the Kafka broker cannot be reached"


def test_the_pause_stays_at_its_cap_after_any_number_of_failures():
    # A broker away for a day at a 30 s cap: some 3,000 failed checks in a row.
    assert POLICY.pause(3000) <= POLICY.backoff_max_seconds
    assert backoff_delay(3000, 0.5, 30.0, 1.0) == 30.0


@pytest.mark.asyncio
async def test_a_table_deleted_under_a_message_leaves_it_for_redelivery_in_one_line(caplog):
    world = fake_world()
    table = world.tables["fake"]
    # Deleted while the message is in hand: the checks see it only once the write has.
    writes = []
    write = table.replace_rows
    table.replace_rows = lambda *args, **kwargs: (writes.append(args), write(*args, **kwargs))
    table.check = lambda: "the label table fake does not exist" if writes else None
    table.missing = True
    world.queue.send(upload(world), receives=1)
    health = WorkerHealth()

    await run_until(world, lambda: bool(writes), health)  # the message in hand is finished

    # Neither deleted nor dead-lettered: it waits on the queue until the table is back.
    assert world.queue.deleted == [] and world.queue.dead_letters == []
    assert world.publisher.published == []
    assert await health.ready() == "the label table fake does not exist"
    [line] = [r for r in caplog.records if "will be redelivered" in r.getMessage()]
    assert "the label table fake does not exist" in line.getMessage()
    assert line.exc_info is None  # the reason, not a traceback per message
