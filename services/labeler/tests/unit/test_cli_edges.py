"""relabel stopped part way and backfill re-running the past, over fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from labelgraph_labeler.fakes import fake_world
from labelgraph_labeler.handlers import RelabelSummary, backfill, relabel
from labelgraph_labeler.rows import Checkpoint

BUCKET = "security-alarms"
FIRST_DAY, LATER_DAY = "alarms/frontdoor/2016-11-05/07/a_20161105-071530.jpg", \
    "alarms/frontdoor/2016-11-06/07/b_20161106-071530.jpg"


@pytest.mark.asyncio
async def test_a_stopped_relabel_finishes_the_image_in_hand_and_says_it_stopped_early():
    world = fake_world()
    for stamp in ("071530", "071531", "071532"):
        world.images.put(BUCKET, f"alarms/frontdoor/2016-11-05/07/img_20161105-{stamp}.jpg")
    stop = asyncio.Event()

    def stop_after_the_first(total: int, summary: RelabelSummary) -> None:
        stop.set()

    summary = await relabel(world.labeler, BUCKET, "alarms/", 1, stop_after_the_first, stop)

    assert summary.images == 1 and summary.stopped_early
    assert dict(summary.outcomes["fake"]) == {"labeled": 1}


@pytest.mark.asyncio
async def test_a_relabel_that_ran_to_the_end_did_not_stop_early():
    world = fake_world()
    world.images.put(BUCKET, FIRST_DAY)

    summary = await relabel(world.labeler, BUCKET, "alarms/", 2, lambda *_: None,
                            asyncio.Event())

    assert summary.images == 1 and not summary.stopped_early


@pytest.mark.asyncio
async def test_a_full_backfill_of_the_past_leaves_the_shared_checkpoint_where_it_was():
    world = fake_world()
    await world.labelled(BUCKET, FIRST_DAY, LATER_DAY)
    await backfill(world.labeler, full=False, batch_size=1, until=date(2016, 11, 30))
    reached = Checkpoint(date(2016, 11, 6),
                         int(datetime(2016, 11, 6, 7, 15, 30, tzinfo=UTC).timestamp()))
    assert world.checkpoints["fake"].load() == reached
    saves = len(world.checkpoints["fake"].saved)
    world.publisher.published.clear()

    past = await backfill(world.labeler, full=True, batch_size=1, until=date(2016, 11, 5))

    assert [event.object_key for event in world.publisher.published] == [FIRST_DAY]
    assert len(world.checkpoints["fake"].saved) == saves
    assert world.checkpoints["fake"].load() == reached == past["fake"].checkpoint


@pytest.mark.asyncio
async def test_a_full_backfill_moves_the_checkpoint_once_it_passes_it():
    world = fake_world()
    await world.labelled(BUCKET, FIRST_DAY)
    await backfill(world.labeler, full=False, batch_size=1, until=date(2016, 11, 30))
    await world.labelled(BUCKET, LATER_DAY)

    await backfill(world.labeler, full=True, batch_size=1, until=date(2016, 11, 30))

    assert [saved.capture_date for saved in world.checkpoints["fake"].saved] == [
        date(2016, 11, 5), date(2016, 11, 6)]
