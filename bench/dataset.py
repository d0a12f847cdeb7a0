"""A synthetic dataset shaped like the original deployment, for every benchmark.

9 cameras, about 1,500 distinct labels with a realistic skew (a few labels on most images,
a long tail seen rarely), about 10 labels an image, capture times spread over months.
Deterministic for a given seed, so two designs measured in one run see the same data.
"""

from __future__ import annotations

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
START = datetime(2016, 10, 1, tzinfo=CAMERA_ZONE)
SPAN = timedelta(days=180)
DETECTOR = "aws-rekognition"
MODEL_VERSION = "3.0"
LABELED_AT = datetime(2026, 11, 25, tzinfo=UTC)

# Labels on most images (wind in bushes, headlights) and how often each appears.
COMMON = {"Plant": 0.92, "Outdoors": 0.85, "Nature": 0.8, "Vegetation": 0.7, "Tree": 0.6,
          "Yard": 0.5, "Person": 0.3, "Human": 0.3, "Car": 0.2, "Vehicle": 0.2}
TAIL_SIZE = 1_490
LABELS_PER_IMAGE = 10


def label_names() -> list[str]:
    """Every label name the generator can emit: the common ones, then the tail."""
    return [*COMMON, *(f"Thing {index:04d}" for index in range(TAIL_SIZE))]


def generate_events(images: int, seed: int = 42) -> Iterator[ImageLabeled]:
    """`images` ImageLabeled events, one per image, in capture order within each camera."""
    rng = random.Random(seed)
    tail = label_names()[len(COMMON):]
    tail_weights = [1 / (rank + 1) for rank in range(TAIL_SIZE)]  # Zipf-like long tail
    for index in range(images):
        camera = CAMERAS[index % len(CAMERAS)]
        captured = START + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
        captured = captured.replace(microsecond=0)
        # The index folder keeps keys unique and still fits the cameras' key layout.
        key = (f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/{index:06d}/"
               f"{camera}_{captured:%Y%m%d-%H%M%S}.jpg")
        names = [name for name, share in COMMON.items() if rng.random() < share]
        while len(names) < LABELS_PER_IMAGE:
            candidate = rng.choices(tail, tail_weights)[0]
            if candidate not in names:
                names.append(candidate)
        identity = dict(bucket="security-alarms", object_key=key, image_etag=f"etag{index}",
                        detector=DETECTOR, model_version=MODEL_VERSION)
        yield ImageLabeled.model_validate(dict(
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
