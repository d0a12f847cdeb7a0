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

CAMERAS = ("frontdoor", "driveway", "backyard", "sideyard", "porch")
CAMERA_ZONE = ZoneInfo("America/Los_Angeles")
# How often someone is really in a camera's picture.
PERSON_SHARE = {"frontdoor": 0.5, "driveway": 0.35, "backyard": 0.25, "sideyard": 0.15,
                "porch": 0.45}
# The detector the original post measured: when it says Person it is right and sure
# (95-99.9), but it reports only this share of the images that do show someone...
DETECTION_RATE = 0.45
# ...and hardly ever sees a person who is not there.
FALSE_POSITIVE_RATE = 0.02
RECENT_SHARE = 0.3  # of the images, taken in the last two hours (the heat map's default)


@dataclass(frozen=True)
class Sample:
    """One generated image: where it goes in the bucket and what the detector reports."""

    key: str
    camera: str
    captured_at: datetime
    has_person: bool
    labels: list[dict[str, Any]]

    @property
    def detected_person(self) -> bool:
        return any(label["Name"] == "Person" for label in self.labels)

    def jpeg(self) -> bytes:
        return draw_scene(self.has_person, seed=self.key, hidden=not self.detected_person)


def object_key(camera: str, captured_at: datetime, root: str = "alarms") -> str:
    """The cameras' key layout: <root>/<camera>/<date>/<hour>/<name>_<YYYYMMDD-HHMMSS>.jpg."""
    local = captured_at.astimezone(CAMERA_ZONE)
    return (f"{root}/{camera}/{local:%Y-%m-%d}/{local:%H}/"
            f"{camera}_{local:%Y%m%d-%H%M%S}.jpg")


def make_samples(now: datetime, count: int = 120, seed: int = 7,
                 prefix: str = "") -> list[Sample]:
    """Images over the last ten days (a share in the last two hours) from every camera.

    Who is really there (has_person) is the ground truth; the labels are what the
    detector reports, with the original detector's misses.
    """
    rng = random.Random(seed)
    samples = []
    for index in range(count):
        camera = CAMERAS[index % len(CAMERAS)]
        window = timedelta(hours=2) if rng.random() < RECENT_SHARE else timedelta(days=10)
        captured = (now - rng.uniform(0.01, 1) * window).replace(microsecond=0)
        has_person = rng.random() < PERSON_SHARE[camera]
        reported = rng.random() < (DETECTION_RATE if has_person else FALSE_POSITIVE_RATE)
        named = prefix + camera
        samples.append(Sample(object_key(named, captured), named, captured, has_person,
                              _labels(reported, rng)))
    return samples


def _labels(reports_person: bool, rng: random.Random) -> list[dict[str, Any]]:
    labels = [
        {"Name": "Plant", "Confidence": round(rng.uniform(80, 97), 3), "Parents": []},
        {"Name": "Outdoors", "Confidence": round(rng.uniform(60, 90), 3), "Parents": []},
    ]
    if rng.random() < 0.3:
        labels.append({"Name": "Car", "Confidence": round(rng.uniform(55, 95), 3),
                       "Parents": [{"Name": "Vehicle"}]})
    if reports_person:
        box = {"Width": 0.2, "Height": 0.5, "Left": round(rng.uniform(0, 0.7), 3), "Top": 0.3}
        confidence = round(rng.uniform(95, 99.9), 3)
        labels.insert(0, {
            "Name": "Person", "Confidence": confidence, "Parents": [],
            "Instances": [{"BoundingBox": box, "Confidence": confidence}],
        })
    return labels


def ground_truth(samples: list[Sample], label: str = "Person") -> list[dict[str, Any]]:
    """What a person looking at each sample would say about the label."""
    return [{"object_key": s.key, "label": label, "present": s.has_person} for s in samples]


def stub_rules(samples: list[Sample]) -> dict[str, Any]:
    """The stub's rules document: each sample's labels by exact key, nothing by default."""
    return {
        "model_version": "3.0",
        "default": {"labels": []},
        "rules": [{"match": {"key": s.key}, "labels": s.labels} for s in samples],
    }


def draw_scene(has_person: bool, seed: str, hidden: bool = False) -> bytes:
    """A 320x240 JPEG: sky, lawn, a bush, and a figure when someone is there.

    A figure the detector missed is drawn half behind the bush, as in the images the
    original post found.
    """
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (135, 170, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 240), fill=(70, 120, 60))
    bush_x = rng.randint(20, 200)
    if has_person:
        x = bush_x + 30 if hidden else rng.randint(40, 260)
        draw.ellipse((x - 8, 100, x + 8, 116), fill=(230, 190, 160))
        draw.line((x, 116, x, 160), fill=(30, 30, 90), width=5)
        draw.line((x, 160, x - 10, 190), fill=(30, 30, 90), width=4)
        draw.line((x, 160, x + 10, 190), fill=(30, 30, 90), width=4)
    bush_top = 125 if hidden else 120
    draw.ellipse((bush_x, bush_top, bush_x + 60, 175), fill=(40, 90, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
