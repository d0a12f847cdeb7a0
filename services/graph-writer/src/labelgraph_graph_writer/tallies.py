"""Tallies: image counts per camera, camera-local day and month, hour of day, view, label
and confidence bucket, kept in the graph beside the edges they count (plain logic, no I/O;
the storage format is in the README, and the api reads it).

One Tally node holds everything a camera's day (or month) counts: per view (a detector, or
`*`) its images per hour, and per label its images per hour and confidence bucket, each in
a property of its own. A batch therefore touches a node per camera and day and month it
writes to, not one per label and view: measured, the keyed node is what costs on ArcadeDB.

The writer adds, per batch, each touched image's contribution after its writes minus the
one before; the recount adds up the images' contributions from the edges anew.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ANY_DETECTOR = "*"
# Stored on each image whose edges the tallies count (`Image.tally_version`) and on the
# graph's TallyState: an image without it (or with another version) is counted by the fill.
TALLY_VERSION = 2
BUCKETS = 101  # [n, n+1) for n in 0..99, and 100 itself
HOURS = 24
LEVELS = ("day", "month")

Row = dict[str, Any]
TallyKey = tuple[str, str, str]
"""(level, camera, period): period is the camera-local date, or its month (YYYY-MM)."""
Cell = tuple[str, str | None, int, int]
"""(view, label, hour, bucket): label None counts images (bucket 0)."""
Cells = Counter[Cell]


@dataclass(frozen=True)
class ImageFacts:
    """What an image's tallies depend on: camera, local capture time, detectors, edges."""

    camera: str
    isodate: str
    detectors: tuple[str, ...]
    labels: Mapping[str, Mapping[str, float]]  # detector -> label -> confidence


def bucket(confidence: float) -> int:
    """The confidence's bucket, floored (89.6 is in 89), clamped to 0..100."""
    return min(BUCKETS - 1, max(0, math.floor(confidence)))


def tally_key_text(key: TallyKey) -> str:
    """The stored, unique form of a key: JSON, so no name can make two keys one."""
    return json.dumps(list(key), separators=(",", ":"))


def tally_property(view: str, label: str | None) -> str:
    """The property holding a view's image counts (label None) or one label's counts.

    Hashed, because names are hostile and up to 256 characters: 96 bits leave a collision
    between a graph's few thousand names out of reach."""
    digest = hashlib.blake2b(json.dumps([view, label], separators=(",", ":")).encode(),
                             digest_size=12).hexdigest()
    return ("i_" if label is None else "l_") + digest


def _places(facts: ImageFacts) -> list[TallyKey]:
    return [("day", facts.camera, facts.isodate[:10]), ("month", facts.camera, facts.isodate[:7])]


def _best_per_label(labels: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for by_label in labels.values():
        for name, confidence in by_label.items():
            best[name] = max(confidence, best.get(name, confidence))
    return best


def contribution(facts: ImageFacts) -> Cells:
    """The cells one image counts in, in each of its places (the same at every level)."""
    hour = int(facts.isodate[11:13])
    views: list[tuple[str, Mapping[str, float]]] = [
        (detector, facts.labels.get(detector, {})) for detector in facts.detectors]
    views.append((ANY_DETECTOR, _best_per_label(facts.labels)))
    cells: Cells = Counter()
    for view, by_label in views:
        cells[(view, None, hour, 0)] += 1
        for name, confidence in by_label.items():
            cells[(view, name, hour, bucket(confidence))] += 1
    return cells


def add_up(images: Iterable[ImageFacts], sign: int = 1,
           into: dict[TallyKey, Cells] | None = None) -> dict[TallyKey, Cells]:
    """The images' cells summed per tally (subtracted with sign -1); zeros are kept."""
    totals = {} if into is None else into
    for image in images:
        cells = contribution(image)
        for key in _places(image):
            held = totals.setdefault(key, Counter())
            for cell, count in cells.items():
                held[cell] += sign * count
    return totals


def _code(cell: Cell) -> int:
    _, label, hour, bucket_index = cell
    return hour if label is None else hour * BUCKETS + bucket_index


def by_property(cells: Cells) -> dict[str, dict[int, int]]:
    """A tally's non-zero cells grouped per property: name -> code -> count."""
    grouped: dict[str, dict[int, int]] = {}
    for cell, count in cells.items():
        if count:
            name = tally_property(cell[0], cell[1])
            grouped.setdefault(name, {})[_code(cell)] = count
    return grouped


def encode(name: str, counts: Mapping[int, int]) -> list[int] | None:
    """A property's stored value: images per hour as 24 counts, a label's cells as
    [code, count, ...] pairs ascending (code = hour * 101 + bucket); None when empty."""
    kept = {code: count for code, count in counts.items() if count}
    if not kept:
        return None
    if name.startswith("i_"):
        return [kept.get(hour, 0) for hour in range(HOURS)]
    return [number for code in sorted(kept) for number in (code, kept[code])]


def decode(name: str, value: list[int] | None) -> dict[int, int]:
    """What `encode` stored, back as code -> count."""
    if not value:
        return {}
    if name.startswith("i_"):
        return {hour: count for hour, count in enumerate(value) if count}
    return {value[index]: value[index + 1] for index in range(0, len(value), 2)}


def stored_cells(properties: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    """A Tally node's counting properties, decoded (its key and names left out)."""
    return {name: decode(name, value) for name, value in properties.items()
            if name.startswith(("i_", "l_")) and value}


def changes(before: Iterable[ImageFacts], after: Iterable[ImageFacts]) -> list[Row]:
    """What brings the tallies from `before` to `after`: a row per touched tally with the
    change of each property it touches (name -> code -> change), in key order."""
    totals = add_up(after, 1, add_up(before, -1))
    rows = []
    for key in sorted(totals, key=tally_key_text):
        deltas = by_property(totals[key])
        if deltas:
            rows.append({**key_fields(key), "deltas": deltas})
    return rows


def key_fields(key: TallyKey) -> Row:
    """The node's identifying properties."""
    level, camera, period = key
    return {"key": tally_key_text(key), "level": level, "camera": camera, "period": period}


def changed_values(row: Row, held: Mapping[str, list[int] | None]) -> dict[str, list[int] | None]:
    """The new value of each property a change row touches, from the values held (None
    removes a property that counts nothing any more)."""
    values: dict[str, list[int] | None] = {}
    for name, delta in row["deltas"].items():
        counts = Counter(decode(name, held.get(name)))
        counts.update(delta)
        values[name] = encode(name, counts)
    return values
