"""The api's plain logic: cursors, windows, rollups and detector accuracy (no I/O)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# The review queue's cursor scores of its first two phases (the third's is a confidence).
DISAGREEMENT = -2.0
UNLABELLED = -1.0
# Bounds of the detector names a caller may list (the contract's bound of a name).
MAX_DETECTORS = 20
MAX_NAME = 256
# A label's boxes as the graph-writer stores them on its HAS_LABEL edge: JSON text of
# [left, top, width, height, confidence] lists. The contract allows 100 instances a label,
# each under 50 characters of JSON; longer text is no writer's and is not parsed.
BOX_FIELDS = ("left", "top", "width", "height", "confidence")
MAX_BOXES = 100
MAX_BOXES_TEXT = 8_192
log = logging.getLogger("labelgraph_api")


class BadRequest(ValueError):
    """A caller's parameters that validate one by one but not together."""

    def body(self) -> dict[str, Any]:
        """The 422's JSON."""
        return {"detail": str(self)}


class UnknownName(BadRequest):
    """A name the graph has none of (a camera, a detector), with some of those it has."""

    def __init__(self, parameter: str, unknown: Sequence[str], known: Sequence[str],
                 complete: bool) -> None:
        # Asked names only as repr: a caller's text goes back out escaped.
        super().__init__(f"unknown {parameter}: {', '.join(map(repr, unknown))}")
        self.parameter = parameter
        self.known = list(known)
        self.complete = complete

    def body(self) -> dict[str, Any]:
        return {**super().body(), "parameter": self.parameter, "known": self.known,
                "known_complete": self.complete}


def encode_cursor(position: Sequence[Any], query: str) -> str:
    """An opaque cursor for the position of the last item of a page, and the digest of the
    query it pages (query_digest), so that it pages no other."""
    return base64.urlsafe_b64encode(json.dumps([list(position), query]).encode()).decode()


def decode_cursor(cursor: str, types: Sequence[type], query: str) -> list[Any]:
    """The position inside a cursor made by encode_cursor, checked against its types and
    the digest of the query it comes back with."""
    try:
        position, made_for = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadRequest("cursor is not one this api returned") from error
    if not (isinstance(position, list) and len(position) == len(types)
            and all(_is(value, kind) for value, kind in zip(position, types, strict=True))):
        raise BadRequest("cursor is not one this api returned")
    if made_for != query:
        # Its position means nothing under other filters: the page would hold the first
        # query's items, or skip the second's.
        raise BadRequest("cursor belongs to a query with other filters (camera, label, "
                         "window, ...): ask without a cursor, or with the cursor's filters")
    return position


def query_digest(parameters: Iterable[tuple[str, str]]) -> str:
    """A short digest of a query's filters: its parameters in any order, as sent."""
    text = json.dumps(sorted(parameters))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is str:
        return isinstance(value, str)
    # Numbers the graph can hold: finite, within 64-bit integers.
    numeric = int | float if kind is float else int
    return isinstance(value, numeric) and math.isfinite(value) and abs(value) < 2**62


def epoch(moment: datetime | None) -> int | None:
    """Epoch seconds of an aware time, None for no bound."""
    return None if moment is None else int(moment.timestamp())


def window_before(until: datetime, span: timedelta) -> datetime:
    """The start of a window of `span` ending at `until`."""
    try:
        return until - span
    except OverflowError as error:
        raise BadRequest("until is too early for the default window") from error


def check_window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise BadRequest("since must be before until")


def utc(timestamp: int | None) -> datetime | None:
    """The UTC time of stored epoch seconds; None for none, and for one no datetime holds."""
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, ValueError, OSError):
        # Older writers stored capture times such as year 9999 at -05:00 (year 10000 in UTC):
        # one such image must not break the route for every caller.
        log.warning("stored timestamp %r is outside the datetime range: answered as null",
                    timestamp)
        return None


def local_hour(captured_at: Any) -> int | None:
    """The camera-local hour of a stored capture time ("YYYY-MM-DDTHH..."); None for text
    that is not one (the graph is data from outside)."""
    if not isinstance(captured_at, str) or len(captured_at) < 13 or captured_at[10] != "T":
        return None
    hour = captured_at[11:13]
    return int(hour) if hour.isdigit() and int(hour) < 24 else None


def stored_boxes(text: Any) -> list[dict[str, float]]:
    """A label's boxes from the JSON text its edge holds, each checked: four ratios 0-1 of
    the image (left, top, width, height, as Rekognition gives them) and a confidence 0-100.

    The graph is data from outside: a box that is not that is dropped, text that is no JSON
    list gives none, and so does an edge written before boxes were stored (no property).
    """
    if text is None:
        return []
    entries = _json_list(text)
    boxes = [dict(zip(BOX_FIELDS, map(float, entry), strict=True))
             for entry in entries if _is_box(entry)][:MAX_BOXES]
    if len(boxes) < len(entries):
        log.warning("stored boxes %.80r hold entries that are no box: dropped", text)
    return boxes


def _json_list(text: Any) -> list[Any]:
    if not isinstance(text, str) or len(text) > MAX_BOXES_TEXT:
        log.warning("stored boxes %.80r are no bounded JSON text: answered as none", text)
        return []
    try:
        entries = json.loads(text)
    except (ValueError, RecursionError):
        log.warning("stored boxes %.80r are no JSON: answered as none", text)
        return []
    return entries if isinstance(entries, list) else [entries]


def _is_box(entry: Any) -> bool:
    if not (isinstance(entry, list) and len(entry) == len(BOX_FIELDS)
            and all(_is(value, float) for value in entry)):
        return False
    *ratios, confidence = entry
    return all(0 <= ratio <= 1 for ratio in ratios) and 0 <= confidence <= 100


def labels_by_detector(image: dict[str, Any], only: str | None = None) -> list[dict[str, Any]]:
    """Each detector that labelled the image (or the one asked for) with the names it gave,
    most confident first: [] says it looked and saw nothing, which `labels` cannot say."""
    detectors = [only] if only else sorted(set(image["detectors"]))
    return [{"detector": name,
             "labels": [label["name"] for label in image["labels"] if label["detector"] == name]}
            for name in detectors]


@dataclass(frozen=True)
class StoredVerdict:
    """One reviewer's verdict on one label of one image, as the verdict table stores it."""

    object_key: str
    label: str
    present: bool
    reviewer: str
    reviewed_at: str  # ISO 8601 in UTC, same format always, so it orders as a string
    sampled: bool = False  # judged in the random-sample review (domain of recall estimates)

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


# An undone verdict the graph may still show, and the verdict in force after it (None: none).
Withdrawal = tuple[StoredVerdict, StoredVerdict | None]


def review_key(object_key: str, label: str) -> str:
    """The natural key of one reviewer verdict: one per image and label."""
    return json.dumps([object_key, label])


# What each rollup key groups by: a bucket keeps its full calendar identity (month: its
# year too; day: the date; hour: the date too) unless the key asks for one part across the
# calendar ("all Novembers": month_of_year). Key -> (time parts read, fields answered).
ROLLUP_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "camera": (("camera",), ("camera",)),
    "year": (("year",), ("year",)),
    "month": (("year", "month"), ("year", "month")),
    "day": (("year", "month", "day"), ("date",)),
    "hour": (("year", "month", "day", "hour"), ("date", "hour")),
    "month_of_year": (("month",), ("month_of_year",)),
    "day_of_month": (("day",), ("day_of_month",)),
    "hour_of_day": (("hour",), ("hour_of_day",)),
}
ROLLUP_FIELDS = ("camera", "year", "month", "date", "hour", "month_of_year", "day_of_month",
                 "hour_of_day")


def rollup_keys(asked: Iterable[str]) -> list[str]:
    """The keys of `by`, repeated or separated by commas, each known and asked once."""
    keys = [key.strip() for item in asked for key in item.split(",")]
    unknown = [key for key in keys if key not in ROLLUP_KEYS]
    if unknown:
        raise BadRequest(f"by takes {', '.join(ROLLUP_KEYS)}; not {unknown[0][:40]!r}")
    if not keys:
        raise BadRequest("by needs at least one key")
    if len(set(keys)) != len(keys):
        raise BadRequest("each key may appear once in by")
    return keys


def rollup_parts(keys: Iterable[str]) -> list[str]:
    """The time parts (and camera) the graph must group by for these keys."""
    return sorted({part for key in keys for part in ROLLUP_KEYS[key][0]})


def _bucket(row: dict[str, Any], keys: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    fields = {name for key in keys for name in ROLLUP_KEYS[key][1]}
    values = {"camera": row["camera"], "year": row["year"], "month": row["month"],
              "hour": row["hour"], "month_of_year": row["month"], "day_of_month": row["day"],
              "hour_of_day": row["hour"]}
    if "date" in fields:
        values["date"] = f"{row['year']:04d}-{row['month']:02d}-{row['day']:02d}"
    return tuple((name, values[name]) for name in ROLLUP_FIELDS if name in fields)


def roll_up(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Sum the graph's counts per time part into the asked buckets, in their natural order."""
    totals: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for row in rows:
        totals[_bucket(row, keys)] += row["images"]
    return [{**dict(bucket), "images": count} for bucket, count in sorted(totals.items())]


@dataclass(frozen=True)
class Confusion:
    """Detector against reviewer at one confidence threshold."""

    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        present = self.true_positives + self.false_negatives
        return self.true_positives / present if present else None

    @property
    def false_negative_rate(self) -> float | None:
        present = self.true_positives + self.false_negatives
        return self.false_negatives / present if present else None


Verdicts = Sequence[tuple[bool, float | None]]


class ConfusionCounter:
    """The confusion of (truth, detector confidence or None) pairs at any threshold, flagged
    meaning confidence >= threshold: the confidences sorted once, each threshold bisected
    (a curve asks a hundred thresholds of thousands of verdicts)."""

    def __init__(self, verdicts: Verdicts) -> None:
        self._present = sorted(c for truth, c in verdicts if truth and c is not None)
        self._absent = sorted(c for truth, c in verdicts if not truth and c is not None)
        self._truly = sum(1 for truth, _ in verdicts if truth)
        self._judged = len(verdicts)

    def at(self, threshold: float) -> Confusion:
        found = len(self._present) - bisect_left(self._present, threshold)
        false_alarms = len(self._absent) - bisect_left(self._absent, threshold)
        return Confusion(threshold, found, false_alarms, self._truly - found,
                         self._judged - self._truly - false_alarms)


def confusion(verdicts: Verdicts, threshold: float) -> Confusion:
    """Count (truth, detector confidence or None) pairs; flagged means confidence >= threshold."""
    return ConfusionCounter(verdicts).at(threshold)


def curve(verdicts: Verdicts, step: float) -> list[Confusion]:
    """The confusion at every threshold from 0 to 100 in steps."""
    count = int(100 / step + 1e-9)
    thresholds = [round(index * step, 6) for index in range(count + 1)]
    if thresholds[-1] < 100:
        thresholds.append(100.0)
    counter = ConfusionCounter(verdicts)
    return [counter.at(threshold) for threshold in thresholds]


@dataclass(frozen=True)
class TargetRecall:
    """The highest threshold that still finds `target` percent of the true presences."""

    target: float
    threshold: float | None  # None: no threshold reaches the target
    at_threshold: Confusion | None
    best_recall: float | None  # the recall at threshold 0, the most this detector finds

    @property
    def reached(self) -> bool:
        return self.threshold is not None


def threshold_for_recall(verdicts: Verdicts, target: float) -> TargetRecall:
    """Read the target recall (percent) off the exact curve: its steps are the confidences.

    Recall only changes at a truly present image's confidence, so the highest threshold
    reaching the target is one of those; an image without the label is never flagged, so
    a detector that missed too many outright reaches the target at no threshold.
    """
    counter = ConfusionCounter(verdicts)
    widest = counter.at(0.0)
    present = widest.true_positives + widest.false_negatives
    best = widest.true_positives / present if present else None
    candidates = sorted({c for truth, c in verdicts if truth and c is not None}, reverse=True)
    for threshold in candidates:
        point = counter.at(threshold)
        if point.true_positives * 100 >= target * present:  # integers: no rounding
            return TargetRecall(target, threshold, point, best)
    return TargetRecall(target, None, None, best)


def parse_thresholds(items: Iterable[str]) -> dict[str, float]:
    """Per-detector thresholds from `name:value` items, several to an item with commas.

    The value follows the last colon, so a name may hold colons (not commas).
    """
    thresholds: dict[str, float] = {}
    for item in items:
        for pair in item.split(","):
            name, colon, value = pair.strip().rpartition(":")
            if len(thresholds) == MAX_DETECTORS or len(name) > MAX_NAME:
                raise BadRequest(f"thresholds takes at most {MAX_DETECTORS} detectors, "
                                 f"names of at most {MAX_NAME} characters")
            if not colon or not name:
                raise BadRequest(f"thresholds wants detector:value, not {pair!r}")
            try:
                threshold = float(value)
            except ValueError as error:
                raise BadRequest(f"threshold of {name!r} is not a number") from error
            if not 0 <= threshold <= 100:
                raise BadRequest(f"threshold of {name!r} must be between 0 and 100")
            if name in thresholds:
                raise BadRequest(f"detector {name!r} has two thresholds")
            thresholds[name] = threshold
    return thresholds


@dataclass(frozen=True)
class Comparison:
    """Detectors judged on the same reviewed images: those every compared detector labelled."""

    detectors: tuple[str, ...]
    reviewed: int  # reviewed images in scope, whoever labelled them
    labelled_by: dict[str, int]  # of those, how many each detector labelled
    verdicts: dict[str, list[tuple[bool, float | None]]]  # per detector, on the shared images

    @property
    def shared(self) -> int:
        return len(next(iter(self.verdicts.values()), []))


def compare_detectors(rows: Iterable[dict[str, Any]],
                      asked: Sequence[str] | None = None) -> Comparison:
    """Each detector's (truth, confidence) on the reviewed images all compared ones labelled.

    A row is one reviewed image: `present`, `detectors` (who labelled it) and `confidences`
    ({detector: confidence of the label}). A detector that labelled an image without the
    label has no confidence there (a miss when the label is present); one that never
    labelled the image is no judge of it, so the image leaves the comparison.
    """
    rows = list(rows)
    labelled_by = Counter(name for row in rows for name in set(row["detectors"]))
    # An empty list asks for none (every asked one was silent); only None means all.
    detectors = tuple(sorted(labelled_by if asked is None else set(asked)))
    verdicts: dict[str, list[tuple[bool, float | None]]] = {name: [] for name in detectors}
    for row in rows:
        if detectors and set(detectors) <= set(row["detectors"]):
            for name in detectors:
                verdicts[name].append((row["present"], row["confidences"].get(name)))
    return Comparison(detectors, len(rows), {name: labelled_by[name] for name in detectors},
                      verdicts)


def sample_rank(seed: int, object_key: str) -> str:
    """An image's place in the random sample of this seed: a hash of its key, so the order
    is uniform, stable from page to page and blind to what the detectors said."""
    return hashlib.sha256(f"{seed}\n{object_key}".encode()).hexdigest()


def queue_reason(score: float) -> str:
    """Why an image is in the review queue, from its place in the queue's order."""
    if score == DISAGREEMENT:
        return "disagreement"
    return "unlabelled" if score == UNLABELLED else "least confident"
