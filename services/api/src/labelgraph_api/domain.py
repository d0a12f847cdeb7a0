"""The api's plain logic: cursors, windows, rollups and detector accuracy (no I/O)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ROLLUP_DIMENSIONS = ("camera", "year", "month", "day", "hour")
log = logging.getLogger("labelgraph_api")


class BadRequest(ValueError):
    """A caller's parameters that validate one by one but not together."""


def encode_cursor(position: Sequence[Any]) -> str:
    """An opaque cursor for the position of the last item of a page."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    """The position inside a cursor made by encode_cursor, checked against its types."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as error:
        raise BadRequest("cursor is not one this api returned") from error
    if not (isinstance(position, list) and len(position) == len(types)
            and all(_is(value, kind) for value, kind in zip(position, types, strict=True))):
        raise BadRequest("cursor is not one this api returned")
    return position


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


def review_key(object_key: str, label: str) -> str:
    """The natural key of one reviewer verdict: one per image and label."""
    return json.dumps([object_key, label])


def roll_up(rows: Iterable[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Sum per-hour counts into the asked dimensions, in their natural order."""
    totals: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        totals[tuple(row[name] for name in by)] += row["images"]
    return [{**dict(zip(by, key, strict=True)), "images": count}
            for key, count in sorted(totals.items())]


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


def confusion(verdicts: Sequence[tuple[bool, float | None]], threshold: float) -> Confusion:
    """Count (truth, detector confidence or None) pairs; flagged means confidence >= threshold."""
    counts: Counter[tuple[bool, bool]] = Counter(
        (present, confidence is not None and confidence >= threshold)
        for present, confidence in verdicts)
    return Confusion(threshold, counts[True, True], counts[False, True], counts[True, False],
                     counts[False, False])


def curve(verdicts: Sequence[tuple[bool, float | None]], step: float) -> list[Confusion]:
    """The confusion at every threshold from 0 to 100 in steps."""
    count = int(100 / step + 1e-9)
    thresholds = [round(index * step, 6) for index in range(count + 1)]
    if thresholds[-1] < 100:
        thresholds.append(100.0)
    return [confusion(verdicts, threshold) for threshold in thresholds]
