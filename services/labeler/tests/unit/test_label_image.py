"""label_image's branches over fakes: one upload, every detector, no servers."""

from __future__ import annotations

import pytest

from labelgraph_labeler.adapters.kafka import PublishFailed
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.domain import ImageRejected
from labelgraph_labeler.fakes import FakeDetector, FakeWorld, fake_world
from labelgraph_labeler.handlers import Outcome, label_image

BUCKET = "security-alarms"
KEY = "alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"


def uploaded(world: FakeWorld, key: str = KEY) -> Upload:
    world.images.put(BUCKET, key)
    return Upload(BUCKET, key)


def outcomes(results: list) -> list[tuple[str, Outcome, str]]:
    return [(result.detector, result.outcome, result.reason) for result in results]


@pytest.mark.asyncio
async def test_an_image_becomes_rows_and_one_event_per_detector():
    world = fake_world(one=FakeDetector({"Person": 97.5}), two=FakeDetector({"Car": 60.0}))

    results = await label_image(world.labeler, uploaded(world), first_delivery=True)

    assert outcomes(results) == [("one", Outcome.LABELED, ""), ("two", Outcome.LABELED, "")]
    by_detector = {event.detector: event for event in world.publisher.published}
    assert {name: [label.name for label in event.labels]
            for name, event in by_detector.items()} == {"one": ["Person"], "two": ["Car"]}
    for name, table in world.tables.items():
        assert {row["event_id"] for row in table.of(KEY)} == {by_detector[name].event_id}
    # A first delivery has nothing earlier to clean up: no read before the write.
    assert world.tables["one"].reads == [] and world.images.fetched == []


@pytest.mark.asyncio
async def test_a_redelivery_replaces_the_rows_an_earlier_try_left():
    detector = FakeDetector({"Person": 97.5, "Plant": 50.0})
    world = fake_world(only=detector)
    await label_image(world.labeler, uploaded(world), first_delivery=True)
    detector.labels = {"Person": 97.5}

    await label_image(world.labeler, uploaded(world))

    assert [row["label"] for row in world.tables["only"].of(KEY)] == ["Person"]
    assert world.tables["only"].reads == [KEY]


@pytest.mark.asyncio
async def test_the_backfill_checkpoint_object_is_ignored_not_labelled():
    world = fake_world()
    checkpoint = world.checkpoints["fake"].key

    results = await label_image(world.labeler, uploaded(world, checkpoint))

    assert outcomes(results) == [("fake", Outcome.IGNORED, "")]
    assert world.images.described == [] and world.publisher.published == []


@pytest.mark.asyncio
async def test_an_excluded_camera_is_never_read_nor_labelled():
    world = fake_world(excluded_cameras=frozenset({"frontdoor"}))

    results = await label_image(world.labeler, uploaded(world))

    assert outcomes(results) == [("fake", Outcome.EXCLUDED, "")]
    assert world.images.described == [] and world.tables["fake"].rows == {}
    assert world.publisher.published == []


@pytest.mark.asyncio
async def test_a_key_off_the_layout_fails_for_every_detector():
    world = fake_world(one=FakeDetector(), two=FakeDetector())

    results = await label_image(world.labeler, uploaded(world, "alarms/readme.txt"))

    assert outcomes(results) == [("one", Outcome.FAILED, "key_layout"),
                                 ("two", Outcome.FAILED, "key_layout")]
    assert world.publisher.published == []


@pytest.mark.asyncio
async def test_a_missing_object_fails_for_every_detector_as_missing():
    world = fake_world()

    results = await label_image(world.labeler, Upload(BUCKET, KEY))

    assert outcomes(results) == [("fake", Outcome.FAILED, "missing")]


@pytest.mark.asyncio
async def test_a_refusal_stays_with_its_detector():
    world = fake_world(good=FakeDetector(),
                       picky=FakeDetector(failure=ImageRejected("no", "not_image")))

    results = await label_image(world.labeler, uploaded(world))

    assert outcomes(results) == [("good", Outcome.LABELED, ""),
                                 ("picky", Outcome.FAILED, "not_image")]
    assert results[1].detail == "picky: no"
    assert [event.detector for event in world.publisher.published] == ["good"]
    assert world.tables["good"].of(KEY) and not world.tables["picky"].of(KEY)


@pytest.mark.asyncio
async def test_a_transient_error_is_raised_after_the_others_are_written_and_published():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")),
                       good=FakeDetector())

    with pytest.raises(ConnectionError, match="model server down"):
        await label_image(world.labeler, uploaded(world))

    assert [event.detector for event in world.publisher.published] == ["good"]
    assert world.tables["good"].of(KEY) and not world.tables["flaky"].of(KEY)


@pytest.mark.asyncio
async def test_a_failed_publish_is_raised_first_with_the_rows_already_written():
    world = fake_world(flaky=FakeDetector(failure=ConnectionError("model server down")),
                       good=FakeDetector())
    world.publisher.down = "broker gone"

    # The broker outage wins over the detector's error: the worker stops taking uploads.
    with pytest.raises(PublishFailed, match="broker gone"):
        await label_image(world.labeler, uploaded(world))

    assert world.publisher.published == []
    assert world.tables["good"].of(KEY)  # rows first: the redelivery rewrites them
