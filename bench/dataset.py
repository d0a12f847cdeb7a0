"""A synthetic dataset shaped like the original deployment, for every benchmark.

9 cameras, about 1,500 distinct labels with a realistic skew (a few labels on most images,
a long tail seen rarely), about 10 labels an image. It grows as a deployment does: the
cameras take a constant number of images a day (1,200 by default: the original's 214,000
images are then six months), so a bigger dataset is a longer history ending at the same
moment END. The last two hours, or the last month, before END hold the same images at
every size, and the first N events of a size are the events of size N: a graph built for
a small size grows into a larger one by adding the rest. Deterministic for a given seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    labelling_event_id,
)

CAMERAS = ("frontdoor", "driveway", "backyard", "garage", "crawlspace", "sideyard", "porch",
           "patio", "street")
CAMERA_ZONE = ZoneInfo("America/Los_Angeles")
# The newest capture is just before END (noon on the cameras' clock); history runs back.
END = datetime(2017, 3, 31, 12, 0, tzinfo=CAMERA_ZONE)
IMAGES_PER_DAY = 1_200
DAY_SECONDS = 86_400
DETECTOR = "aws-rekognition"
MODEL_VERSION = "3.0"
LABELED_AT = datetime(2026, 11, 25, tzinfo=UTC)

# Labels on most images (wind in bushes, headlights) and how often each appears.
COMMON = {"Plant": 0.92, "Outdoors": 0.85, "Nature": 0.8, "Vegetation": 0.7, "Tree": 0.6,
          "Yard": 0.5, "Person": 0.3, "Human": 0.3, "Car": 0.2, "Vehicle": 0.2}
TAIL_SIZE = 1_490
LABELS_PER_IMAGE = 10
# Zipf-like long tail, as cumulative weights: a bisection per pick instead of a sum.
_TAIL_CUMULATIVE = list(itertools.accumulate(1 / (rank + 1) for rank in range(TAIL_SIZE)))


def label_names() -> list[str]:
    """Every label name the generator can emit: the common ones, then the tail."""
    return [*COMMON, *(f"Thing {index:04d}" for index in range(TAIL_SIZE))]


def generate_events(images: int, seed: int = 42,
                    per_day: int = IMAGES_PER_DAY) -> Iterator[ImageLabeled]:
    """`images` ImageLabeled events, one per image: the newest day's first, going back a day
    every `per_day` images; within a day, in no particular order (as partitions deliver)."""
    tail = label_names()[len(COMMON):]
    end = END.astimezone(UTC)  # days of 24 hours, whatever the cameras' clocks do
    for first in range(0, images, per_day):
        day = first // per_day
        # One generator per day: a day's images do not depend on how many days follow.
        rng = random.Random(f"{seed}:{day}")
        for index in range(first, min(first + per_day, images)):
            captured = end - timedelta(days=day, seconds=rng.randint(1, DAY_SECONDS))
            yield _event(index, captured.astimezone(CAMERA_ZONE), tail, rng)


def _event(index: int, captured: datetime, tail: list[str], rng: random.Random) -> ImageLabeled:
    camera = CAMERAS[index % len(CAMERAS)]
    # The index folder keeps keys unique and still fits the cameras' key layout.
    key = (f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/{index:07d}/"
           f"{camera}_{captured:%Y%m%d-%H%M%S}.jpg")
    names = [name for name, share in COMMON.items() if rng.random() < share]
    while len(names) < LABELS_PER_IMAGE:
        candidate = rng.choices(tail, cum_weights=_TAIL_CUMULATIVE)[0]
        if candidate not in names:
            names.append(candidate)
    identity = dict(bucket="security-alarms", object_key=key, image_etag=f"etag{index}",
                    detector=DETECTOR, model_version=MODEL_VERSION)
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity),
        **identity,
        camera=camera,
        **captured_fields(captured),
        labeled_at=LABELED_AT,
        labels=[DetectedLabel(name=name, confidence=_confidence(name, rng))
                for name in names[:LABELS_PER_IMAGE]],
    ))


def _confidence(name: str, rng: random.Random) -> float:
    # The detector the original post measured is all-or-nothing on people: near 100 or absent.
    if name in ("Person", "Human"):
        return round(rng.uniform(95, 99.9), 3)
    return round(rng.triangular(50, 99.9, 85), 3)
