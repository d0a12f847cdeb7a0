"""Where and when a detector misses, and what a threshold costs: plain logic, no I/O.

A reviewed row (graph_reads.reviewed_by_detector) is one reviewed image: `present`,
`camera`, `hour` (camera-local hour of capture), `detectors` (who labelled it),
`confidences` and `versions` ({detector: ...}) and `silent` (detectors that labelled it
with no label at all).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from labelgraph_api.domain import MAX_DETECTORS, MAX_NAME, BadRequest

Row = dict[str, Any]
Verdicts = list[tuple[bool, float | None]]
DAY_SECONDS = 86_400
# A span of captures shorter than this is counted as this much when it comes from the data
# (an open window): one image does not make a day of zero length.
MIN_DATA_SPAN_SECONDS = DAY_SECONDS
UNKNOWN_VERSION = "unknown"


@dataclass(frozen=True)
class NightHours:
    """Camera-local hours counted as night: from `start` (inclusive) to `end` (exclusive),
    across midnight when start > end."""

    start: int
    end: int

    def holds(self, hour: int) -> bool:
        if self.start <= self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


DEFAULT_NIGHT = NightHours(19, 7)


@dataclass(frozen=True)
class Nights:
    """The night hours of every camera: a default and per-camera overrides."""

    default: NightHours
    cameras: dict[str, NightHours]

    def period(self, camera: str, hour: int) -> str:
        return "night" if self.cameras.get(camera, self.default).holds(hour) else "day"

    def as_body(self) -> Row:
        def hours(night: NightHours) -> Row:
            return {"start": night.start, "end": night.end}
        return {"default": hours(self.default),
                "cameras": {name: hours(night) for name, night in sorted(self.cameras.items())}}


def parse_nights(items: Iterable[str]) -> Nights:
    """Night hours from `HH-HH` (every camera) and `camera:HH-HH` items, several to an item
    with commas; the hours follow the last colon, so a camera name may hold colons."""
    default, cameras = DEFAULT_NIGHT, dict[str, NightHours]()
    for item in items:
        for pair in item.split(","):
            name, colon, hours = pair.strip().rpartition(":")
            if len(cameras) == MAX_DETECTORS or len(name) > MAX_NAME:
                raise BadRequest(f"night takes at most {MAX_DETECTORS} cameras, names of at "
                                 f"most {MAX_NAME} characters")
            night = _night_hours(hours)
            if colon:
                cameras[name] = night
            else:
                default = night
    return Nights(default, cameras)


def _night_hours(text: str) -> NightHours:
    start, dash, end = text.partition("-")
    if not (dash and start.isdigit() and end.isdigit() and len(start) <= 2 and len(end) <= 2
            and int(start) < 24 and int(end) < 24 and start != end):
        raise BadRequest(f"night wants hours HH-HH (0-23, start inclusive, end exclusive), "
                         f"not {text[:20]!r}")
    return NightHours(int(start), int(end))


def silent_detectors(rows: Sequence[Row]) -> dict[str, int]:
    """Detectors that labelled reviewed images in scope yet gave none of them any label:
    a stand-in without rules for them (or a detector blind to all of them). Name -> images."""
    labelled: dict[str, int] = {}
    spoke: set[str] = set()
    for row in rows:
        for name in set(row["detectors"]):
            labelled[name] = labelled.get(name, 0) + 1
            if name not in row["silent"]:
                spoke.add(name)
    return {name: count for name, count in sorted(labelled.items()) if name not in spoke}


def judged_by(rows: Sequence[Row], detector: str) -> list[Row]:
    """The reviewed rows this detector labelled."""
    return [row for row in rows if detector in row["detectors"]]


def group_verdicts(rows: Sequence[Row], detector: str,
                   key: Callable[[Row], Hashable]) -> dict[Any, Verdicts]:
    """The detector's (truth, confidence) pairs grouped by key(row), in key order."""
    groups: dict[Any, Verdicts] = {}
    for row in judged_by(rows, detector):
        groups.setdefault(key(row), []).append((row["present"], row["confidences"].get(detector)))
    return dict(sorted(groups.items()))


def version_of(detector: str) -> Callable[[Row], str]:
    """A row's version of the detector (unknown where it left no label edge to read it off)."""
    return lambda row: row["versions"].get(detector) or UNKNOWN_VERSION


@dataclass(frozen=True)
class AlarmCounts:
    """Images at or above each threshold, per camera and detector, over `days` days."""

    counts: dict[tuple[str, str, float], int]  # (camera, detector, threshold) -> images
    days: float

    def per_day(self, detector: str, threshold: float, cameras: Iterable[str]) -> float:
        total = sum(self.counts.get((camera, detector, threshold), 0) for camera in cameras)
        return total / self.days


def alarm_days(since: int, until: int, first_ts: int | None, last_ts: int | None,
               open_since: bool, open_until: bool) -> float:
    """How many days the alarms are spread over: the window where its ends are given, the
    span of the captures in scope where one is open (at least a day)."""
    if first_ts is None or last_ts is None:
        first_ts = last_ts = since if not open_since else until
    low = first_ts if open_since else since
    high = last_ts if open_until else until
    span = high - low
    if open_since or open_until:
        span = max(span, MIN_DATA_SPAN_SECONDS)
    return max(span, 1) / DAY_SECONDS
