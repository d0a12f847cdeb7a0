"""Tallies: image counts per camera, camera-local time, label, view and confidence bucket,
kept in the graph beside the edges they count (plain logic, no I/O; see the README).

An image contributes to one tally per level, kind (images, or one of its labels) and view;
the writer adds, per batch, each touched image's contribution after its writes minus the
one before, and the recount adds up the images' contributions from the edges anew.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANY_DETECTOR = "*"
# Stored on each image whose edges the tallies count (`Image.tally_version`) and on the
# graph's TallyState: an image without it was written before tallies (see fill_tallies).
TALLY_VERSION = 1
BUCKETS = 101  # [n, n+1) for n in 0..99, and 100 itself
LEVELS = ("hour", "date", "month_hour", "month", "total")
# Levels whose images count per camera and time (total counts labels only, all cameras).
TIMED_LEVELS = LEVELS[:-1]

Row = dict[str, Any]
TallyKey = tuple[str, str | None, str | None, int | None, str | None, str]
"""(level, camera, period, hour, label, view); label None for image counts."""


@dataclass(frozen=True)
class ImageFacts:
    """What an image's tallies depend on: camera, local capture time, detectors, edges."""

    camera: str
    isodate: str
    detectors: tuple[str, ...]
    labels: Mapping[str, Mapping[str, float]]  # detector -> label -> confidence


@dataclass
class Tally:
    """How many images a key counts, and per confidence bucket for a label's key."""

    images: int = 0
    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, other: Tally, sign: int = 1) -> None:
        self.images += sign * other.images
        for bucket, count in other.buckets.items():
            self.buckets[bucket] = self.buckets.get(bucket, 0) + sign * count
            if not self.buckets[bucket]:
                del self.buckets[bucket]


def bucket(confidence: float) -> int:
    """The confidence's bucket, floored (89.6 is in 89), clamped to 0..100."""
    return min(BUCKETS - 1, max(0, math.floor(confidence)))


def tally_key_text(key: TallyKey) -> str:
    """The stored, unique form of a key: JSON, so no name can make two keys one."""
    return json.dumps(list(key), separators=(",", ":"))


def _places(facts: ImageFacts) -> list[tuple[str, str | None, str | None, int | None]]:
    """(level, camera, period, hour) of every level the image counts in."""
    date, month, hour = facts.isodate[:10], facts.isodate[:7], int(facts.isodate[11:13])
    return [("hour", facts.camera, date, hour), ("date", facts.camera, date, None),
            ("month_hour", facts.camera, month, hour), ("month", facts.camera, month, None)]


def _best_per_label(labels: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for by_label in labels.values():
        for name, confidence in by_label.items():
            best[name] = max(confidence, best.get(name, confidence))
    return best


def contribution(facts: ImageFacts) -> dict[TallyKey, Tally]:
    """Every tally one image counts in, with what it adds there."""
    views: list[tuple[str, Mapping[str, float]]] = [
        (detector, facts.labels.get(detector, {})) for detector in facts.detectors]
    views.append((ANY_DETECTOR, _best_per_label(facts.labels)))
    added: dict[TallyKey, Tally] = {}
    for level, camera, period, hour in _places(facts):
        for view in (ANY_DETECTOR, *facts.detectors):
            added[(level, camera, period, hour, None, view)] = Tally(1)
    for view, by_label in views:
        for name, confidence in by_label.items():
            one = Tally(1, {bucket(confidence): 1})
            for level, camera, period, hour in _places(facts):
                added[(level, camera, period, hour, name, view)] = one
            added[("total", None, None, None, name, view)] = one
    return added


def add_up(facts: Iterable[ImageFacts], sign: int = 1,
           into: dict[TallyKey, Tally] | None = None) -> dict[TallyKey, Tally]:
    """The images' contributions summed per key (subtracted with sign -1)."""
    totals = {} if into is None else into
    for image in facts:
        for key, tally in contribution(image).items():
            totals.setdefault(key, Tally()).add(tally, sign)
    return totals


def changes(before: Iterable[ImageFacts], after: Iterable[ImageFacts]) -> list[Row]:
    """The statement rows that bring the tallies from `before` to `after`, by key."""
    totals = add_up(after, 1, add_up(before, -1))
    return [tally_row(key, tally) for key, tally in sorted(
        totals.items(), key=lambda item: tally_key_text(item[0]))
        if tally.images or tally.buckets]


def tally_row(key: TallyKey, tally: Tally) -> Row:
    """One key's change as parameters: only the buckets that change, as [index, count]
    pairs, so the statement touches those and copies the rest of the list."""
    level, camera, period, hour, label, view = key
    return {"key": tally_key_text(key), "images": tally.images,
            "counts": [[index, count] for index, count in sorted(tally.buckets.items())],
            "dims": {"level": level, "camera": camera, "period": period, "hour": hour,
                     "label": label, "view": view}}


def stored_tally(images: int, counts: list[int] | None) -> Tally:
    """A tally as the graph holds it (counts: the 101 buckets, or None for images)."""
    return Tally(images, {index: count for index, count in enumerate(counts or []) if count})
