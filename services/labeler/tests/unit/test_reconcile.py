"""reconcile over fakes: stored images a detector never labelled are labelled by that
detector alone, within the days asked, the limit, and from where an earlier run stopped."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.domain import ImageRejected
from labelgraph_labeler.fakes import (
    FakeDetector,
    FakeReconcileMark,
    FakeReconcileProgress,
    FakeWorld,
    fake_world,
)
from labelgraph_labeler.handlers import label_image
from labelgraph_labeler.reconcile import (
    ReconcileScope,
    reconcile,
    reconcile_at_start,
    start_first_day,
)

BUCKET = "security-alarms"


def key(camera: str, stamp: str, name: str = "img") -> str:
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
    return f"alarms/{camera}/{day}/{stamp[9:11]}/{name}_{stamp}.jpg"


async def labelled_by(world: FakeWorld, detector: str, *keys: str) -> None:
    """Each key stored and labelled by one detector only, as if the others' notification
    (or their labeler) had been lost."""
    for each in keys:
        world.images.put(BUCKET, each)
        await label_image(world.labeler.only({detector}), Upload(BUCKET, each),
                          first_delivery=True)


def two_detectors() -> FakeWorld:
    return fake_world(rek=FakeDetector({"Person": 90.0}), hog=FakeDetector({"Person": 60.0}))


def everything(since: date | None = None) -> ReconcileScope:
    return ReconcileScope(BUCKET, first_day=since)


@pytest.mark.asyncio
async def test_labels_each_image_with_the_detectors_that_lack_it_and_no_other():
    world = two_detectors()
    half = key("frontdoor", "20161105-071530", "half")
    never = key("frontdoor", "20161105-081530", "never")
    done = key("garage", "20161106-071530", "done")
    await labelled_by(world, "rek", half, done)
    await labelled_by(world, "hog", done)
    world.images.put(BUCKET, never)
    rek, hog = (detector.model for detector in world.labeler.detectors)
    assert isinstance(rek, FakeDetector) and isinstance(hog, FakeDetector)
    rek.asked.clear()
    hog.asked.clear()

    summary = await reconcile(world.labeler, everything(), concurrency=2)

    assert rek.asked == [never]
    assert sorted(hog.asked) == sorted([half, never])
    assert world.tables["rek"].of(never) and world.tables["hog"].of(half)
    assert (summary.days, summary.images, summary.already_labeled) == (2, 3, 1)
    assert dict(summary.labeled) == {"rek": 1, "hog": 2}
    assert not summary.needs_rerun
    # The events went out as a live upload's do: one per detector that labelled.
    assert sorted((e.object_key, e.detector) for e in world.publisher.published[-3:]) == sorted(
        [(never, "rek"), (never, "hog"), (half, "hog")])
    # One query per day and detector, not one per image.
    assert len(world.tables["hog"].days_read) == 2

    again = await reconcile(world.labeler, everything(), concurrency=2)

    assert (again.images, again.already_labeled, dict(again.labeled)) == (3, 3, {})


@pytest.mark.asyncio
async def test_an_image_labelled_under_another_capture_day_is_not_labelled_again():
    world = fake_world(rek=FakeDetector())
    image = key("frontdoor", "20161105-235959")
    await labelled_by(world, "rek", image)
    # Its camera_timestamp put it on the next day: not in its folder's day set.
    table = world.tables["rek"]
    table.rows = {held: {**row, "capture_date": "2016-11-06"} for held, row in table.rows.items()}

    summary = await reconcile(world.labeler, everything(), concurrency=1)

    assert (summary.already_labeled, dict(summary.labeled)) == (1, {})


@pytest.mark.asyncio
async def test_skips_and_counts_checkpoints_keys_off_the_layout_and_excluded_cameras():
    world = fake_world(frozenset({"garage"}), rek=FakeDetector())
    for each in ("status/checkpoint.rek", "status/reconcile_progress", "alarms/readme.txt",
                 "alarms/frontdoor/2016-11-05/notes.txt", key("garage", "20161105-071530")):
        world.images.put(BUCKET, each)

    summary = await reconcile(world.labeler, everything(), concurrency=1)

    assert dict(summary.skipped) == {"checkpoint": 2, "key_layout": 2, "excluded_camera": 1}
    assert summary.images == 0 and not world.publisher.published


@pytest.mark.asyncio
async def test_only_the_days_asked_are_listed_and_queried():
    world = fake_world(rek=FakeDetector())
    old, recent = key("frontdoor", "20161101-071530"), key("frontdoor", "20161105-071530")
    world.images.put(BUCKET, old)
    world.images.put(BUCKET, recent)

    summary = await reconcile(world.labeler, everything(date(2016, 11, 4)), concurrency=1)

    assert dict(summary.labeled) == {"rek": 1} and world.tables["rek"].of(recent)
    assert not world.tables["rek"].of(old)
    assert world.tables["rek"].days_read == [date(2016, 11, 5)]
    # The cameras' and days' levels were listed, the old day's images never.
    assert "alarms/frontdoor/2016-11-01/" not in world.images.listed


@pytest.mark.asyncio
async def test_a_prefix_inside_a_day_reconciles_that_day_alone():
    world = fake_world(rek=FakeDetector())
    inside, other = key("frontdoor", "20161105-071530"), key("frontdoor", "20161105-091530")
    world.images.put(BUCKET, inside)
    world.images.put(BUCKET, other)

    summary = await reconcile(world.labeler, ReconcileScope(
        BUCKET, "alarms/frontdoor/2016-11-05/07/"), concurrency=1)

    assert dict(summary.labeled) == {"rek": 1} and world.tables["rek"].of(inside)


@pytest.mark.asyncio
async def test_the_limit_caps_the_images_labelled_and_a_saved_walk_resumes_after_it():
    world = fake_world(rek=FakeDetector())
    days = [key("frontdoor", f"201611{day:02}-071530", name) for day in (1, 2, 3)
            for name in ("a", "b")]
    for each in days:
        world.images.put(BUCKET, each)
    saved = FakeReconcileProgress()

    first = await reconcile(world.labeler, everything(), concurrency=1, limit=3, saved=saved)

    assert first.limit_reached and dict(first.labeled) == {"rek": 3}
    # Day one settled; day two half done: the walk resumes at day two.
    assert saved.saved[-1][1] == "alarms/frontdoor/2016-11-01/"

    second = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)

    assert second.resumed_after == "alarms/frontdoor/2016-11-01/"
    assert (second.days, second.already_labeled, dict(second.labeled)) == (2, 1, {"rek": 3})
    assert all(world.tables["rek"].of(each) for each in days)
    # Finished: the next walk starts from the top.
    assert saved.saved[-1][1] is None
    third = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)
    assert (third.resumed_after, third.days, third.already_labeled) == (None, 3, 6)


@pytest.mark.asyncio
async def test_a_long_walk_saves_its_progress_as_it_goes(monkeypatch):
    monkeypatch.setattr("labelgraph_labeler.reconcile.SAVE_EVERY_SECONDS", -1.0)
    world = fake_world(rek=FakeDetector())
    for day in (1, 2):
        world.images.put(BUCKET, key("frontdoor", f"201611{day:02}-071530"))
    saved = FakeReconcileProgress()

    await reconcile(world.labeler, everything(), concurrency=1, saved=saved)

    # After each day (a crash loses at most the time between saves), then finished.
    assert [settled for _, settled in saved.saved] == [
        "alarms/frontdoor/2016-11-01/", "alarms/frontdoor/2016-11-02/", None]


@pytest.mark.asyncio
async def test_a_walk_of_other_detectors_does_not_resume_from_this_ones_progress():
    world = fake_world(rek=FakeDetector())
    world.images.put(BUCKET, key("frontdoor", "20161101-071530"))
    walked_by_hog = everything().name(fake_world(hog=FakeDetector()).labeler)
    saved = FakeReconcileProgress(saved=[(walked_by_hog, "alarms/zzz/")])

    summary = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)

    assert summary.resumed_after is None and dict(summary.labeled) == {"rek": 1}


@pytest.mark.asyncio
async def test_a_refusal_is_counted_by_reason_and_settles_the_image():
    world = fake_world(picky=FakeDetector(failure=ImageRejected("no", "not_image")))
    world.images.put(BUCKET, key("frontdoor", "20161101-071530"))
    saved = FakeReconcileProgress()

    summary = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)

    assert {name: dict(reasons) for name, reasons in summary.refused.items()} == {
        "picky": {"not_image": 1}}
    assert not summary.needs_rerun and saved.saved[-1][1] is None


@pytest.mark.asyncio
async def test_a_transient_failure_is_counted_calls_for_a_rerun_and_holds_the_progress():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")))
    first, second = key("frontdoor", "20161101-071530"), key("frontdoor", "20161102-071530")
    world.images.put(BUCKET, first)
    world.images.put(BUCKET, second)
    saved = FakeReconcileProgress(saved=[])

    summary = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)

    assert dict(summary.transient) == {"flaky": 2} and summary.needs_rerun
    # The first day is not settled: the next walk begins there again.
    assert saved.saved[-1][1] is None
    world.labeler.detectors[0].model.failure = None  # type: ignore[attr-defined]
    again = await reconcile(world.labeler, everything(), concurrency=1, saved=saved)
    assert dict(again.labeled) == {"flaky": 2} and not again.needs_rerun


@pytest.mark.asyncio
async def test_a_day_whose_table_cannot_be_read_is_counted_and_the_next_day_goes_on():
    world = fake_world(rek=FakeDetector())
    world.images.put(BUCKET, key("frontdoor", "20161101-071530"))
    world.images.put(BUCKET, key("porch", "20161101-071530"))
    world.tables["rek"].missing = True

    summary = await reconcile(world.labeler, everything(), concurrency=1)

    assert (summary.days_failed, summary.days) == (2, 0) and summary.needs_rerun


def utc_day(days_ago: int) -> date:
    """A day on the fake world's camera clock (UTC)."""
    return datetime.now(UTC).date() - timedelta(days=days_ago)


def utc_key(days_ago: int) -> str:
    return key("frontdoor", f"{utc_day(days_ago):%Y%m%d}-071530", f"ago{days_ago}")


@pytest.mark.parametrize(("last_began", "first_day"), [
    (None, 1),  # never finished: the last two days
    (0, 1),  # finished today: still the last two days
    (5, 5),  # a stop of five days: back to the day the last one began
    (90, 30),  # a stop of three months: never more than 31 days, today included
])
def test_the_start_walks_back_to_the_day_the_last_finished_start_began(last_began, first_day):
    labeler = fake_world().labeler
    began = None if last_began is None else utc_day(last_began)

    assert start_first_day(labeler, 2, 31, began) == utc_day(first_day)


@pytest.mark.asyncio
async def test_a_start_after_a_longer_stop_labels_what_it_lost_then_marks_today():
    world = two_detectors()
    lost, before = utc_key(4), utc_key(8)
    for each in (lost, before):
        world.images.put(BUCKET, each)
    mark = FakeReconcileMark()
    mark.save(ReconcileScope(BUCKET).name(world.labeler), utc_day(6))

    first_day, summary = await reconcile_at_start(world.labeler, BUCKET, mark, days=2,
                                                  max_days=31, concurrency=1,
                                                  stop=asyncio.Event())

    assert first_day == utc_day(6)
    assert dict(summary.labeled) == {"rek": 1, "hog": 1}
    assert world.tables["rek"].of(lost) and not world.tables["rek"].of(before)
    assert mark.saved[-1][1] == utc_day(0)


@pytest.mark.asyncio
async def test_a_start_that_did_not_finish_leaves_the_mark_where_it_was():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")))
    world.images.put(BUCKET, utc_key(3))
    mark = FakeReconcileMark()
    scope = ReconcileScope(BUCKET).name(world.labeler)
    mark.save(scope, utc_day(5))

    _, summary = await reconcile_at_start(world.labeler, BUCKET, mark, days=2, max_days=31,
                                          concurrency=1, stop=asyncio.Event())

    assert summary.needs_rerun
    assert mark.saved == [(scope, utc_day(5))]


@pytest.mark.asyncio
async def test_a_mark_of_other_detectors_is_no_mark():
    world = two_detectors()
    world.images.put(BUCKET, utc_key(4))
    mark = FakeReconcileMark()
    mark.save(ReconcileScope(BUCKET).name(fake_world().labeler), utc_day(6))

    first_day, summary = await reconcile_at_start(world.labeler, BUCKET, mark, days=2,
                                                  max_days=31, concurrency=1,
                                                  stop=asyncio.Event())

    assert first_day == utc_day(1) and summary.images == 0
