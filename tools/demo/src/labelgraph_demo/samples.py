"""Generated sample images and the detector answers the stub gives for them.

Real photographs cannot be downloaded here, so each sample is a small drawn scene; the
stub's rules say what the "detector" sees in it, as Rekognition would answer.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

CAMERAS = ("frontdoor", "driveway", "backyard")
CAMERA_ZONE = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Sample:
    """One generated image: where it goes in the bucket and what the detector reports."""

    key: str
    camera: str
    captured_at: datetime
    has_person: bool
    labels: list[dict[str, Any]]

    def jpeg(self) -> bytes:
        return draw_scene(self.has_person, seed=self.key)


def object_key(camera: str, captured_at: datetime, root: str = "alarms") -> str:
    """The cameras' key layout: <root>/<camera>/<date>/<hour>/<name>_<YYYYMMDD-HHMMSS>.jpg."""
    local = captured_at.astimezone(CAMERA_ZONE)
    return (f"{root}/{camera}/{local:%Y-%m-%d}/{local:%H}/"
            f"{camera}_{local:%Y%m%d-%H%M%S}.jpg")


def make_samples(now: datetime, count: int = 12, seed: int = 7) -> list[Sample]:
    """Images spread over the last 90 minutes, about half with a person in them."""
    rng = random.Random(seed)
    samples = []
    for index in range(count):
        camera = CAMERAS[index % len(CAMERAS)]
        captured = (now - timedelta(minutes=rng.uniform(1, 90))).replace(microsecond=0)
        has_person = rng.random() < 0.5
        samples.append(Sample(object_key(camera, captured), camera, captured, has_person,
                              _labels(has_person, rng)))
    return samples


def _labels(has_person: bool, rng: random.Random) -> list[dict[str, Any]]:
    labels = [
        {"Name": "Plant", "Confidence": round(rng.uniform(80, 97), 3), "Parents": []},
        {"Name": "Outdoors", "Confidence": round(rng.uniform(60, 90), 3), "Parents": []},
    ]
    if has_person:
        box = {"Width": 0.2, "Height": 0.5, "Left": round(rng.uniform(0, 0.7), 3), "Top": 0.3}
        confidence = round(rng.uniform(95, 99.9), 3)
        labels.insert(0, {
            "Name": "Person", "Confidence": confidence, "Parents": [],
            "Instances": [{"BoundingBox": box, "Confidence": confidence}],
        })
    return labels


def stub_rules(samples: list[Sample]) -> dict[str, Any]:
    """The stub's rules document: each sample's labels by exact key, nothing by default."""
    return {
        "model_version": "3.0",
        "default": {"labels": []},
        "rules": [{"match": {"key": s.key}, "labels": s.labels} for s in samples],
    }


def draw_scene(has_person: bool, seed: str) -> bytes:
    """A 320x240 JPEG: sky, lawn, a bush, and a stick figure when there is a person."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (135, 170, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 240), fill=(70, 120, 60))
    bush_x = rng.randint(20, 260)
    draw.ellipse((bush_x, 120, bush_x + 60, 170), fill=(40, 90, 40))
    if has_person:
        x = rng.randint(40, 260)
        draw.ellipse((x - 8, 100, x + 8, 116), fill=(230, 190, 160))
        draw.line((x, 116, x, 160), fill=(30, 30, 90), width=5)
        draw.line((x, 160, x - 10, 190), fill=(30, 30, 90), width=4)
        draw.line((x, 160, x + 10, 190), fill=(30, 30, 90), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
