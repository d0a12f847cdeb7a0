"""label_image reads the upload's header before any detector, over fakes: too many pixels
or no JPEG or PNG header refuses it unread, for every detector."""

from __future__ import annotations

import pytest

from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.fakes import FakeDetector, FakeWorld, fake_world
from labelgraph_labeler.handlers import Outcome, label_image
from services.labeler.tests.hostile_images import bomb_jpeg, content

BUCKET = "security-alarms"
KEY = "alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"


def two_detectors() -> tuple[FakeWorld, list[FakeDetector]]:
    detectors = [FakeDetector({"Person": 90.0}), FakeDetector({"Car": 60.0})]
    return fake_world(one=detectors[0], two=detectors[1]), detectors


async def labelled(world: FakeWorld, body: bytes) -> list[tuple[str, Outcome, str]]:
    world.images.put(BUCKET, KEY, body)
    results = await label_image(world.labeler, Upload(BUCKET, KEY), first_delivery=True)
    return [(result.detector, result.outcome, result.reason) for result in results]


@pytest.mark.asyncio
async def test_an_image_over_the_pixel_bound_is_refused_before_any_detector():
    world, detectors = two_detectors()
    world.images.max_pixels = 9_000 * 9_000 - 1

    outcomes = await labelled(world, bomb_jpeg(9_000, 9_000))

    assert outcomes == [("one", Outcome.FAILED, "too_large"), ("two", Outcome.FAILED, "too_large")]
    assert [detector.asked for detector in detectors] == [[], []]
    assert world.images.fetched == [] and world.publisher.published == []
    world.images.max_pixels += 1  # the bound itself is taken
    assert [outcome for _, outcome, _ in await labelled(world, bomb_jpeg(9_000, 9_000))] == [
        Outcome.LABELED, Outcome.LABELED]


@pytest.mark.parametrize("body", [b"", b"GIF89a", content("gif-as-jpg"),
                                  content("webp-as-jpg"), b"\xff\xd8\xff"])
@pytest.mark.asyncio
async def test_an_upload_without_a_jpeg_or_png_header_is_refused_before_any_detector(body):
    world, detectors = two_detectors()

    outcomes = await labelled(world, body)

    assert outcomes == [("one", Outcome.FAILED, "not_image"), ("two", Outcome.FAILED, "not_image")]
    assert [detector.asked for detector in detectors] == [[], []]
