"""Tallies: image counts per camera, camera-local day and month, hour of day, view, label
and confidence bucket, kept in the graph beside the edges they count (plain logic, no I/O;
the storage format is in the README, and the api reads it).

One Tally node holds everything a camera's day counts: per view (a detector, or `*`) its
images per hour, and per label its images per hour and confidence bucket, each in a
property of its own. A batch therefore touches a node per camera and day it writes to, not
one per label and view: measured, the keyed node is what costs on ArcadeDB.

The writer adds, per batch, each touched image's contribution after its writes minus the
one before, to the day tallies. A settled day is then folded, once, into its month's and
all time's shards (one node per camera, month or all time, and 1/64 of the properties),
which long questions read a small node at a time: a fat month node, rewritten every batch,
halved the writer's throughput and cost a reader 2 ms a node to load. A later change to a
folded day goes to its shards too. The recount adds up the images' contributions from the
edges anew.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ANY_DETECTOR = "*"
# Stored on each image whose edges the tallies count (`Image.tally_version`) and on the
# graph's TallyState: an image without it (or with another version) is counted by the fill.
TALLY_VERSION = 3
BUCKETS = 101  # [n, n+1) for n in 0..99, and 100 itself
HOURS = 24

Row = dict[str, Any]


@dataclass(frozen=True)
class TallyState:
    """What the graph's TallyState says of its tallies (at TALLY_VERSION): whether they
    count every image, and whether every image counted counts in SEVERAL_DETECTORS (a
    graph counted before that property was added does not say so; the api then finds
    disagreements without it)."""

    complete: bool
    counts_several: bool


TallyKey = tuple[Any, ...]
"""A Tally node's key: ("day", camera, date) for a day's node, ("month", camera, "YYYY-MM",
shard) and ("total", camera, None, shard) for the shards days are folded into,
("unfolded", camera) for the camera's registry of days not folded yet."""
# A month's (and all time's) properties are spread over this many nodes by their names'
# hash: a reader of one property loads 1/64 of them, a fold writes 64 nodes, not one a
# property (measured: one a property made a day's fold cost more than its writes).
SHARDS = 64
Counts = dict[str, dict[int, int]]
"""A tally's counts: property name -> code -> count (see `contribution`)."""
# A day node's property holding the distinct UTC offsets (minutes, ascending) of the
# captures filed under it: no `i_`/`l_` hash, so no count can take its name. Readers use
# it to tell which of the day's hours lie wholly inside a window. Only ever grown: an
# offset whose image went since only makes readers more careful.
OFFSETS = "utc_offsets"


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


@functools.lru_cache(maxsize=65_536)  # a batch asks for the same few thousand names
def tally_property(view: str, label: str | None) -> str:
    """The property holding a view's image counts (label None) or one label's counts.

    Hashed, because names are hostile and up to 256 characters: 96 bits leave a collision
    between a graph's few thousand names out of reach."""
    return ("i_" if label is None else "l_") + _digest([view, label])


def _digest(named: list[str | None]) -> str:
    return hashlib.blake2b(json.dumps(named, separators=(",", ":")).encode(),
                           digest_size=12).hexdigest()


# The images labelled by two detectors or more, per hour: an image count like a view's,
# which the api reads to find where detectors can disagree. A one-element list, which no
# [view, label] pair encodes, so no view's name can ever equal it.
SEVERAL_DETECTORS = "i_" + _digest(["several detectors"])


def day_of(facts: ImageFacts) -> TallyKey:
    return ("day", facts.camera, facts.isodate[:10])


def utc_offset(facts: ImageFacts) -> int:
    """The capture's UTC offset in minutes (the contract requires one)."""
    offset = datetime.fromisoformat(facts.isodate).utcoffset()
    if offset is None:
        raise ValueError(f"capture time without a UTC offset: {facts.isodate[:40]!r}")
    return int(offset.total_seconds()) // 60


def offsets_by_day(images: Iterable[ImageFacts]) -> dict[TallyKey, set[int]]:
    """The distinct UTC offsets of the images filed under each day."""
    found: dict[TallyKey, set[int]] = {}
    for image in images:
        found.setdefault(day_of(image), set()).add(utc_offset(image))
    return found


def grown_offsets(row: Row, held: object, created: bool) -> list[int] | None:
    """A day node's offsets once the row's are added; None when nothing is to be written:
    none grew, or the node is older than offsets (it holds none, so readers read its
    straddling hours from the images; `recount --repair` sets them)."""
    if not created and not isinstance(held, list):
        return None
    before = set(held) if isinstance(held, list) else set()
    grown = sorted(before | set(row.get("offsets", ())))
    return grown if grown != sorted(before) or created else None


def shard_of(name: str) -> int:
    """The shard of a property (its name is a hash already: its first hex digits)."""
    return int(name[2:8], 16) % SHARDS


def folded_into(day: TallyKey, name: str) -> list[TallyKey]:
    """The shards a day's property is folded into: its month's and all time's."""
    _, camera, date = day
    shard = shard_of(name)
    return [("month", camera, date[:7], shard), ("total", camera, None, shard)]


def registry_of(camera: str) -> TallyKey:
    """The key of a camera's registry of unfolded days."""
    return ("unfolded", camera)


def _best_per_label(labels: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for by_label in labels.values():
        for name, confidence in by_label.items():
            best[name] = max(confidence, best.get(name, confidence))
    return best


def contribution(facts: ImageFacts) -> list[tuple[str, int]]:
    """What one image counts, in its day and month alike: (property, code) pairs, the
    code being the hour for image counts and hour x 101 + bucket for a label's; an image
    two detectors or more labelled counts in SEVERAL_DETECTORS too."""
    hour = int(facts.isodate[11:13])
    views: list[tuple[str, Mapping[str, float]]] = [
        (detector, facts.labels.get(detector, {})) for detector in facts.detectors]
    views.append((ANY_DETECTOR, _best_per_label(facts.labels)))
    counted = [(SEVERAL_DETECTORS, hour)] if len(facts.detectors) > 1 else []
    for view, by_label in views:
        counted.append((tally_property(view, None), hour))
        counted.extend((tally_property(view, name), hour * BUCKETS + bucket(confidence))
                       for name, confidence in by_label.items())
    return counted


def add_up(images: Iterable[ImageFacts], sign: int = 1,
           into: dict[TallyKey, Counts] | None = None) -> dict[TallyKey, Counts]:
    """The images' counts summed per day tally and property (subtracted with sign -1); a
    count that sums to 0 is kept as 0."""
    totals = {} if into is None else into
    for image in images:
        held = totals.setdefault(day_of(image), {})
        for name, code in contribution(image):
            codes = held.setdefault(name, {})
            codes[code] = codes.get(code, 0) + sign
    return totals


def shards(days: Mapping[TallyKey, Counts], folded: Iterable[TallyKey]
           ) -> dict[TallyKey, Counts]:
    """The shards of the folded days: each property's counts summed per month and over
    all time (what folding them, as the writer does, adds up to)."""
    rows = merged_rows(row for day in folded for row in shard_rows(day, days.get(day, {})))
    return {(row["level"], row["camera"], row["period"], row["shard"]): row["deltas"]
            for row in rows}


def meanings(facts: ImageFacts) -> dict[str, str]:
    """What each property the image counts in counts, for people to read."""
    named = {tally_property(view, None): f"view {view!r} images"
             for view in (*facts.detectors, ANY_DETECTOR)}
    if len(facts.detectors) > 1:
        named[SEVERAL_DETECTORS] = "images with several detectors"
    for view, by_label in (*facts.labels.items(), (ANY_DETECTOR, _best_per_label(facts.labels))):
        named |= {tally_property(view, name): f"view {view!r} label {name!r}" for name in by_label}
    return named


def nonzero(counts: Counts) -> Counts:
    """The counts without zeros, and without properties left empty."""
    kept = {name: {code: count for code, count in codes.items() if count}
            for name, codes in counts.items()}
    return {name: codes for name, codes in kept.items() if codes}


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
    """What brings the day tallies from `before` to `after`: a row per touched day with the
    change of each property it touches (name -> code -> change) and the UTC offsets of its
    images after, in key order; a day whose counts stay is still written when an image
    brings it an offset its images before did not have (the same hour, another offset)."""
    before, after = list(before), list(after)
    totals = add_up(after, 1, add_up(before, -1))
    offsets, offsets_before = offsets_by_day(after), offsets_by_day(before)
    rows = []
    for key in sorted(totals, key=tally_key_text):
        deltas = nonzero(totals[key])
        new = offsets.get(key, set())
        if deltas or not new <= offsets_before.get(key, set()):
            rows.append({**key_fields(key), "deltas": deltas, "offsets": sorted(new)})
    return rows


def key_fields(key: TallyKey) -> Row:
    """A day node's identifying properties."""
    level, camera, period = key
    return {"key": tally_key_text(key), "level": level, "camera": camera, "period": period}


def shard_rows(day: TallyKey, deltas: Mapping[str, Mapping[int, int]]) -> list[Row]:
    """The changes of the shards a folded day's changes go to, a row per shard."""
    rows: dict[str, Row] = {}
    for name, delta in deltas.items():
        for key in folded_into(day, name):
            level, camera, period, shard = key
            row = rows.setdefault(tally_key_text(key), {
                "key": tally_key_text(key), "level": level, "camera": camera,
                "period": period, "shard": shard, "deltas": {}})
            row["deltas"][name] = dict(delta)
    return list(rows.values())


def merged_rows(rows: Iterable[Row]) -> list[Row]:
    """Change rows of one node added into one (a statement may not write a node twice)."""
    merged: dict[str, Row] = {}
    for row in rows:
        held = merged.setdefault(row["key"], {**row, "deltas": {}})
        for name, delta in row["deltas"].items():
            _add_codes(held["deltas"].setdefault(name, {}), delta)
    return [merged[key] for key in sorted(merged)]


def changed_values(row: Row, held: Mapping[str, list[int] | None]) -> dict[str, list[int] | None]:
    """The new value of each property a change row touches, from the values held (None
    removes a property that counts nothing any more)."""
    values: dict[str, list[int] | None] = {}
    for name, delta in row["deltas"].items():
        values[name] = encode(name, _add_codes(decode(name, held.get(name)), delta))
    return values


def day_values(row: Row, held: Mapping[str, list[int] | None], held_offsets: object,
               created: bool) -> dict[str, Any]:
    """A day node's changed properties: its counts (`changed_values`) and its UTC offsets
    when they grow (`grown_offsets`)."""
    values: dict[str, Any] = dict(changed_values(row, held))
    offsets = grown_offsets(row, held_offsets, created)
    if offsets is not None:
        values[OFFSETS] = offsets
    return values


def _add_codes(into: dict[int, int], codes: Mapping[int, int]) -> dict[int, int]:
    """`codes`' counts added into `into`, which is returned."""
    for code, count in codes.items():
        into[code] = into.get(code, 0) + count
    return into
