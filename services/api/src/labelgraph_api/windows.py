"""Time windows over the time tree, and paging newest first across it (plain logic, no I/O).

The graph's `ISODate` nodes are camera-local dates, while windows are UTC instants. A
camera's UTC offset is under a day, so an image's local date is its UTC date, the day
before or the day after: a window visits the local dates one day wider on each side and
filters the images by timestamp.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

EARLIEST = -(2**62)
LATEST = 2**62
SLACK = timedelta(days=1)
DAY_SECONDS = 86_400
# An explicit window longer than this is intersected with the dates the graph holds,
# rather than listing every calendar day in it.
CALENDAR_DAYS_MAX = 400
# Up to this many dates (a week and the slack each side), starting from the window's dates
# beats starting from the label's edges: the first costs the window's images times their
# ten labels, the second the label's edges. Measured at 20,000 images (a 2-hour heat map
# 14-37 ms from dates against 44-64 from the label; 5 days 134-215 ms against 32-36) and
# at 214,000 (a month 538 ms from dates against 236 from Person's edges).
DATE_ANCHOR_DAYS_MAX = 9
FIRST_CHUNK_DATES = 3
CHUNK_DATES_MAX = 96
# Images whose detectors a detector scan reads at most: the newest ones of the window.
DETECTOR_SCAN_IMAGES = 2_000

Row = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """Concrete bounds (epoch seconds, since inclusive, until exclusive) and the local dates
    (ascending ISO strings) whose images may lie inside them."""

    since: int
    until: int
    dates: tuple[str, ...]

    @property
    def bounds(self) -> dict[str, int]:
        return {"since": self.since, "until": self.until}

    @property
    def short(self) -> bool:
        """Whether starting from the dates is the cheaper plan."""
        return len(self.dates) <= DATE_ANCHOR_DAYS_MAX

    def before(self, timestamp: int) -> Window:
        """The part of the window a page continuing below `timestamp` can still reach."""
        last = _edge(timestamp, SLACK)
        return Window(self.since, self.until,
                      tuple(d for d in self.dates if last is None or d <= last))


def needs_known_dates(since: int | None, until: int | None) -> bool:
    """Whether the window's dates must come from the graph (an open or very long window)."""
    if _edge(since, -SLACK) is None or _edge(until, SLACK) is None:
        return True
    assert since is not None and until is not None
    return (until - since) // DAY_SECONDS > CALENDAR_DAYS_MAX


def window(since: int | None, until: int | None,
           known_dates: Sequence[str] | None = None) -> Window:
    """The window for optional bounds; known_dates when needs_known_dates says so."""
    low = EARLIEST if since is None else since
    high = LATEST if until is None else until
    if high <= low:
        return Window(low, high, ())
    first, last = _edge(since, -SLACK), _edge(None if until is None else until - 1, SLACK)
    if known_dates is None:
        assert first is not None and last is not None, "an open window needs known dates"
        return Window(low, high, tuple(_calendar(first, last)))
    return Window(low, high, tuple(sorted(
        d for d in known_dates if (first is None or d >= first) and (last is None or d <= last))))


def settled_from(lowest: str) -> int:
    """Every image on a date before `lowest` was captured before this epoch second."""
    midnight = datetime.fromisoformat(lowest).replace(tzinfo=UTC)
    return int(midnight.timestamp()) + DAY_SECONDS


def dates_around(timestamp: int) -> tuple[str, ...]:
    """The local dates a capture at this epoch second can be filed under (any offset)."""
    first, last = _edge(timestamp, -SLACK), _edge(timestamp, SLACK)
    return tuple(_calendar(first, last)) if first and last else ()


Fetch = Callable[[list[str]], Awaitable[list[Row]]]


async def newest_first(fetch: Fetch, dates: Sequence[str], limit: int,
                       max_fetches: int | None = None) -> list[Row] | None:
    """The newest `limit` rows over `dates`, fetching a growing chunk of dates at a time.

    fetch(chunk) returns the newest `limit` rows of those dates (after the cursor). A page
    is complete once it is full and its oldest row is newer than anything an older date
    can hold. None when max_fetches ran out first (the caller picks another plan).
    """
    rows: list[Row] = []
    remaining, size, fetches = list(dates), FIRST_CHUNK_DATES, 0
    while remaining:
        if max_fetches is not None and fetches == max_fetches:
            return None
        chunk, remaining = remaining[-size:], remaining[:-size]
        fetches += 1
        rows = sorted(rows + await fetch(chunk), reverse=True,
                      key=lambda row: (row["timestamp"], row["object_key"]))[:limit]
        if len(rows) == limit and rows[-1]["timestamp"] >= settled_from(chunk[0]):
            break
        size = min(size * 2, CHUNK_DATES_MAX)
    return rows


def _edge(timestamp: int | None, shift: timedelta) -> str | None:
    """The local date at one end of a window; None for an open end or one past the calendar."""
    if timestamp is None:
        return None
    try:
        return (_utc_date(timestamp) + shift).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def _utc_date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def _calendar(first: str, last: str) -> list[str]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    days = []
    while day <= end:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days
