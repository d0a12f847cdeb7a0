"""The demo's camera images: the real photographs of samples/photos under the cameras' keys,
and what the Rekognition stand-in reports for each.

Each photograph (44, with truth.json saying whether a person is in it) is reused under
several keys and cameras to fill a camera's ten days. The local detectors look at the
photographs themselves; only the stand-in is told what to answer (stub_rules).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The workspace's samples/photos (the demo runs from the checkout, never from a wheel).
PHOTOS = Path(__file__).resolve().parents[4] / "samples" / "photos"
CAMERAS = ("frontdoor", "driveway", "backyard", "sideyard", "porch")
CAMERA_ZONE = ZoneInfo("America/Los_Angeles")
# The Rekognition stand-in, under a name that says it is one, and the two real models.
STAND_IN = "rekognition-stand-in"
DEMO_DETECTORS = f"{STAND_IN}=aws-rekognition,ssd-mobilenet-v2-coco,opencv-hog"
# The stand-in behaves like the detector the original post measured: when it says Person
# it is right and sure (95-99.9), but it reports only this share of the images with people
# and never a person who is not there.
STAND_IN_DETECTION_RATE = 0.45
RECENT_SHARE = 0.3  # of the images, taken in the last two hours (the heat map's default)
# The ground-truth step leaves this camera's images unjudged (a fifth of them), so the first
# visit to /ui/review has a queue to work through; `ground-truth --all` judges them too.
LEFT_FOR_YOU = "porch"


@dataclass(frozen=True)
class Sample:
    """One camera image: its key, the photograph it shows, and what the stand-in reports."""

    key: str
    camera: str
    captured_at: datetime
    photo: Path
    has_person: bool
    labels: list[dict[str, Any]]

    @property
    def detected_person(self) -> bool:
        """Whether the stand-in reports a person (the real models decide for themselves)."""
        return any(label["Name"] == "Person" for label in self.labels)

    def jpeg(self) -> bytes:
        return self.photo.read_bytes()


def object_key(camera: str, captured_at: datetime, root: str = "alarms") -> str:
    """The cameras' key layout: <root>/<camera>/<date>/<hour>/<name>_<YYYYMMDD-HHMMSS>.jpg."""
    local = captured_at.astimezone(CAMERA_ZONE)
    return (f"{root}/{camera}/{local:%Y-%m-%d}/{local:%H}/"
            f"{camera}_{local:%Y%m%d-%H%M%S}.jpg")


def photo_truth(photos: Path = PHOTOS) -> dict[str, bool]:
    """Each photograph's file name and whether a person is truly in it (truth.json)."""
    truth = json.loads((photos / "truth.json").read_text())
    return {name: bool(entry["person"]) for name, entry in sorted(truth.items())}


def make_samples(now: datetime, count: int = 120, seed: int = 7, prefix: str = "",
                 photos: Path = PHOTOS) -> list[Sample]:
    """Images over the last ten days (a share in the last two hours) from every camera.

    The photographs are taken in turn (every one before any repeats); the same seed
    gives the same keys, photographs and stand-in answers.
    """
    rng = random.Random(seed)
    truth = list(photo_truth(photos).items())
    samples = []
    for index in range(count):
        name, has_person = truth[index % len(truth)]
        camera = prefix + CAMERAS[index % len(CAMERAS)]
        window = timedelta(hours=2) if rng.random() < RECENT_SHARE else timedelta(days=10)
        captured = (now - rng.uniform(0.01, 1) * window).replace(microsecond=0)
        reported = has_person and rng.random() < STAND_IN_DETECTION_RATE
        samples.append(Sample(object_key(camera, captured), camera, captured,
                              photos / name, has_person, _stand_in_labels(reported, rng)))
    return samples


def _stand_in_labels(reports_person: bool, rng: random.Random) -> list[dict[str, Any]]:
    # No boxes: the stand-in never looks at the photograph, so it cannot say where.
    if not reports_person:
        return []
    return [{"Name": "Person", "Confidence": round(rng.uniform(95, 99.9), 3), "Parents": []}]


def ground_truth(samples: list[Sample], label: str = "Person") -> list[dict[str, Any]]:
    """What a person looking at each image would say about the label (from truth.json)."""
    return [{"object_key": s.key, "label": label, "present": s.has_person} for s in samples]


def to_record(verdicts: list[dict[str, Any]], leave_camera: str | None = LEFT_FOR_YOU
               ) -> list[dict[str, Any]]:
    """The verdicts the ground-truth step records: all but those of `leave_camera`'s images
    (the camera is the key's second part: alarms/<camera>/...)."""
    return [verdict for verdict in verdicts
            if leave_camera is None or verdict["object_key"].split("/")[1] != leave_camera]


def stub_rules(samples: list[Sample]) -> dict[str, Any]:
    """The stub's rules document: each sample's labels by exact key, nothing by default."""
    return {
        "model_version": "stand-in-1",
        "default": {"labels": []},
        "rules": [{"match": {"key": s.key}, "labels": s.labels} for s in samples],
    }
