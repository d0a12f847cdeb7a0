"""Reading the graph-writer's tallies (see services/graph-writer/README.md): their keys,
and answers added up from them (plain logic, no I/O).

A tally's key is the JSON text of [level, camera, period, hour, label, view] that the
graph-writer stores as `tally_key`: the api computes the keys it needs and anchors on them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

ANY_DETECTOR = "*"
TALLY_VERSION = 1  # the graph-writer's tallies.TALLY_VERSION this reader understands
Row = dict[str, Any]


def tally_key(level: str, camera: str, period: str | None, hour: int | None,
              label: str | None, detector: str | None) -> str:
    """The stored key of one tally (view: the detector, or any detector)."""
    view = ANY_DETECTOR if detector is None else detector
    return json.dumps([level, camera, period, hour, label, view], separators=(",", ":"))


def integral(value: float | None) -> bool:
    """Whether integer buckets [n, n+1) answer exactly for this bound (or width)."""
    return value is None or float(value).is_integer()


def months_of(dates: Iterable[str]) -> list[str]:
    """The calendar months (YYYY-MM) of some ISO dates, ascending."""
    return sorted({day[:7] for day in dates})


def histogram_rows(tallies: Iterable[Row], width: float | None, threshold: float) -> list[Row]:
    """The histogram statement's rows, added up from label tallies' bucket counts."""
    totals: dict[float, list[int]] = {}
    for tally in tallies:
        for lower, count in enumerate(tally["counts"] or []):
            if count:
                bucket = float(lower if width is None else math.floor(lower / width) * width)
                held = totals.setdefault(bucket, [0, 0])
                held[0] += count
                held[1] += count if lower >= threshold else 0
    return [{"bucket": bucket, "images": images, "at_or_above": above}
            for bucket, (images, above) in sorted(totals.items())]


def counted(tally: Row, label: str | None, min_confidence: float) -> int:
    """Images a tally counts: all of them, or a label's at or above an integer confidence."""
    if label is None:
        return int(tally["images"])
    return sum((tally["counts"] or [])[math.ceil(min_confidence):])


def rollup_level(parts: Sequence[str]) -> str:
    """The coarsest level that groups as the rollup asks."""
    if "day" in parts:
        return "hour" if "hour" in parts else "date"
    return "month_hour" if "hour" in parts else "month"


def rollup_rows(tallies: Iterable[Row], parts: Sequence[str], label: str | None,
                min_confidence: float) -> list[Row]:
    """The rollup statement's rows (a part not asked for is null), from tallies."""
    groups: dict[tuple[Any, ...], int] = {}
    for tally in tallies:
        period = tally["period"]
        values = {"camera": tally["camera"], "year": int(period[:4]),
                  "month": int(period[5:7]),
                  "day": int(period[8:10]) if len(period) == 10 else None,
                  "hour": tally["hour"]}
        group = tuple(values[part] if part in parts else None
                      for part in ("camera", "year", "month", "day", "hour"))
        groups[group] = groups.get(group, 0) + counted(tally, label, min_confidence)
    return [dict(zip(("camera", "year", "month", "day", "hour", "images"), (*group, images),
                     strict=True))
            for group, images in groups.items() if images]
