"""relabel and backfill over fakes: every object again, and each table back onto the topic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from labelgraph_labeler.adapters.kafka import PublishFailed
from labelgraph_labeler.domain import ImageRejected
from labelgraph_labeler.fakes import FakeDetector, fake_world
from labelgraph_labeler.handlers import backfill, relabel
from labelgraph_labeler.rows import Checkpoint

BUCKET = "security-alarms"
UNTIL = date(2016, 11, 30)


def key(camera: str, stamp: str, name: str = "img") -> str:
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
    return f"alarms/{camera}/{day}/{stamp[9:11]}/{name}_{stamp}.jpg"


@pytest.mark.asyncio
async def test_relabel_counts_each_detectors_outcomes_and_failure_reasons():
    world = fake_world(frozenset({"garage"}),
                       good=FakeDetector(),
                       picky=FakeDetector(failure=ImageRejected("no", "not_image")))
    for each in (key("frontdoor", "20161105-071530"), key("garage", "20161105-071531"),
                 "alarms/readme.txt"):
        world.images.put(BUCKET, each)
    world.images.put(BUCKET, "elsewhere/" + key("porch", "20161105-071532"))
    seen: list[int] = []

    summary = await relabel(world.labeler, BUCKET, "alarms/", 2,
                            lambda total, progress: seen.append(total))

    assert summary.images == 3 and seen == [3, 3, 3]
    assert {name: dict(counts) for name, counts in summary.outcomes.items()} == {
        "good": {"labeled": 1, "excluded": 1, "failed": 1},
        "picky": {"failed": 2, "excluded": 1}}
    assert {name: dict(counts) for name, counts in summary.failures.items()} == {
        "good": {"key_layout": 1}, "picky": {"not_image": 1, "key_layout": 1}}
    # A relabel reads each image's rows first: an earlier labelling may be there.
    assert world.tables["good"].reads == [key("frontdoor", "20161105-071530")]


@pytest.mark.asyncio
async def test_relabel_counts_a_transient_failure_and_goes_on():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")))
    world.images.put(BUCKET, key("frontdoor", "20161105-071530"))

    summary = await relabel(world.labeler, BUCKET, "alarms/", 1, lambda *_: None)

    assert dict(summary.failures["flaky"]) == {"transient": 1}


@pytest.mark.asyncio
async def test_backfill_publishes_each_table_again_as_the_same_events_and_checkpoints():
    world = fake_world(one=FakeDetector({"Person": 91.0}), two=FakeDetector({"Car": 55.5}))
    keys = [key("frontdoor", "20161105-071530", "a"), key("porch", "20161105-071530", "b"),
            key("frontdoor", "20161107-120000", "c")]
    await world.labelled(BUCKET, *keys)
    live = sorted(world.publisher.published, key=lambda event: event.event_id)
    world.publisher.published.clear()

    summaries = await backfill(world.labeler, full=False, batch_size=2, until=UNTIL)

    assert sorted(world.publisher.published, key=lambda event: event.event_id) == live
    # Both images of one second go in one batch; the next day's in another.
    assert {name: (s.events, s.batches) for name, s in summaries.items()} == {
        "one": (3, 2), "two": (3, 2)}
    last = Checkpoint(date(2016, 11, 7), int(datetime(2016, 11, 7, 12, tzinfo=UTC).timestamp()))
    assert world.checkpoints["one"].load() == last == summaries["one"].checkpoint


@pytest.mark.asyncio
async def test_backfill_resumes_after_its_checkpoint_and_full_ignores_it():
    world = fake_world()
    first, later = key("frontdoor", "20161105-071530", "a"), key("frontdoor", "20161106-071530")
    await world.labelled(BUCKET, first)
    await backfill(world.labeler, full=False, batch_size=1, until=UNTIL)
    await world.labelled(BUCKET, later)
    world.publisher.published.clear()

    resumed = await backfill(world.labeler, full=False, batch_size=1, until=UNTIL)
    assert [event.object_key for event in world.publisher.published] == [later]
    assert resumed["fake"].events == 1
    world.publisher.published.clear()

    full = await backfill(world.labeler, full=True, batch_size=1, until=UNTIL)
    assert [event.object_key for event in world.publisher.published] == [first, later]
    assert full["fake"].events == 2


@pytest.mark.asyncio
async def test_a_failed_publish_leaves_the_checkpoint_where_it_was():
    world = fake_world()
    await world.labelled(BUCKET, key("frontdoor", "20161105-071530"))
    world.publisher.down = "broker gone"

    with pytest.raises(PublishFailed):
        await backfill(world.labeler, full=False, batch_size=1, until=UNTIL)

    assert world.checkpoints["fake"].saved == []
