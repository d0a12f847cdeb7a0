"""Reading the graph-writer's tallies (see services/graph-writer/README.md): their keys and
property names, which part of a window they answer, and answers added up from their cells
(plain logic, no I/O).

Format version 3. A fat `Tally` node per camera and camera-local date holds every view's
and label's counts of that day. Per view (a detector, or "*": each label's best confidence
over the image's detectors) it holds the images per camera-local hour (24 ints) and, per
label, a sparse flat list `[code, count, ...]` with code = hour * 101 + confidence bucket;
and the images two detectors or more labelled per hour (SEVERAL_DETECTORS).
Thin nodes (one camera, month or all time, and property, in `cells`) hold the sum over the
camera's folded days; its registry lists the days not folded yet, which a reader adds from
the day nodes. A day node also holds the UTC offsets of its captures (`utc_offsets`), which
tell when each of its local hours can have been captured: at a window's ends the images
are read for the hours that straddle it only (`sharpen`). The api computes the keys it
needs (cameras x periods) and anchors on them, never scanning.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, NamedTuple

from labelgraph_api.windows import DAY_SECONDS, EARLIEST, LATEST, Window

ANY_DETECTOR = "*"
TALLY_VERSION = 3  # the graph-writer's tallies.TALLY_VERSION this reader understands
BUCKETS = 101  # [n, n+1) for n in 0..99, and 100 itself
HOURS, HOUR_SECONDS = 24, 3_600
_DAY_MINUTES = 24 * 60  # a UTC offset is under a day
DAY, MONTH, TOTAL, UNFOLDED = "day", "month", "total", "unfolded"
SHARDS = 64  # the graph-writer's tallies.SHARDS
_EPOCH = date(1970, 1, 1).toordinal()
# A camera's UTC offset is under a day, so an image filed under a local date was captured
# after that date's UTC midnight less a day and before the next UTC midnight plus a day.
_BEFORE_MIDNIGHT, _AFTER_MIDNIGHT = DAY_SECONDS, 2 * DAY_SECONDS
Row = dict[str, Any]
Group = tuple[Any, ...]
Counts = dict[tuple[str, str], int]  # (camera, period) -> images


def day_key(camera: str, day: str) -> str:
    """The stored key of one camera's tally node for a camera-local date."""
    return _stored([DAY, camera, day])


def shard_of(name: str) -> int:
    """The shard holding a property among a month's (or all time's) 64: the graph-writer's
    tallies.shard_of (the name is a hash already: its first hex digits)."""
    return int(name[2:8], 16) % SHARDS


def thin_keys(cameras: Iterable[str], months: Sequence[str] | None, name: str) -> list[str]:
    """The stored keys of the shards holding one property on those cameras: per month, or
    all time (months None)."""
    shard = shard_of(name)
    if months is None:
        return [_stored([TOTAL, camera, None, shard]) for camera in cameras]
    return [_stored([MONTH, camera, month, shard]) for camera in cameras for month in months]


def registry_key(camera: str) -> str:
    """The stored key of a camera's registry of the days not folded yet."""
    return _stored([UNFOLDED, camera])


def _stored(key: list[str | int | None]) -> str:
    return json.dumps(key, separators=(",", ":"))


def tally_property(detector: str | None, label: str | None) -> str:
    """The property holding a view's image counts (label None) or one label's cells:
    hashed, since names are hostile and long."""
    view = ANY_DETECTOR if detector is None else detector
    return ("i_" if label is None else "l_") + _digest([view, label])


def _digest(named: list[str | None]) -> str:
    return hashlib.blake2b(json.dumps(named, separators=(",", ":")).encode(),
                           digest_size=12).hexdigest()


# The images two detectors or more labelled, per hour, as a view's image counts: the
# graph-writer's tallies.SEVERAL_DETECTORS (where TallyState.counts_several says so).
SEVERAL_DETECTORS = "i_" + _digest(["several detectors"])


def integral(value: float | None) -> bool:
    """Whether integer buckets [n, n+1) answer exactly for this bound (or width)."""
    return value is None or float(value).is_integer()


def months_of(dates: Iterable[str]) -> list[str]:
    """The calendar months (YYYY-MM) of some ISO dates, ascending."""
    return sorted({day[:7] for day in dates})


class Cell(NamedTuple):
    """Images of one camera-local hour (and, for a label, one confidence bucket)."""

    hour: int
    bucket: int | None
    images: int


def cells(stored: Sequence[int] | None, of_label: bool, min_confidence: float = 0
          ) -> Iterator[Cell]:
    """A stored property decoded: the 24 hourly image counts, or a label's sparse pairs at
    or above an integer confidence. A month's answer decodes tens of thousands of cells, so
    the bar is applied here, before a cell is made."""
    if not stored:
        return
    if not of_label:
        yield from (Cell(hour, None, count) for hour, count in enumerate(stored) if count)
        return
    bar = math.ceil(min_confidence)
    for code, count in zip(stored[0::2], stored[1::2], strict=True):
        hour, bucket = divmod(code, BUCKETS)
        if bucket >= bar:
            yield Cell(hour, bucket, count)


@dataclass(frozen=True)
class Split:
    """A window's periods read from tallies (whole months, whole days) and what at its ends
    is read from the images, exact to the second: whole dates (`edges`) and single local
    hours of a date on one camera (`hours`, see `camera_hour`). With the hours of the end
    dates the day tallies answer (`sharpen`), they cover the window once."""

    months: tuple[str, ...]
    days: tuple[str, ...]
    edges: tuple[str, ...]
    hours: tuple[str, ...] = ()
    # Months of `days` read as the month's shard less its days outside them (`netted`).
    netted: tuple[str, ...] = ()

    @property
    def read_from_images(self) -> bool:
        return bool(self.edges or self.hours)

    def images_at_ends(self) -> dict[str, list[str]]:
        """The end statements' parameters: the dates they start from, the dates read whole,
        the hours read (any camera's, to filter before anything else is read) and each
        camera's hours (`camera_hour`)."""
        return {"dates": sorted({*self.edges, *(hour[:10] for hour in self.hours)}),
                "whole_dates": list(self.edges),
                "hours": sorted({hour[:13] for hour in self.hours}),
                "camera_hours": list(self.hours)}

    def day_keys(self, cameras: Iterable[str]) -> list[str]:
        """The day tallies' keys of the split's whole days on those cameras, but those of
        netted months."""
        return [day_key(camera, day) for camera in cameras for day in self.days
                if day[:7] not in self.netted]

    def tallied(self, month: str) -> list[str]:
        """The dates of one of the split's months its tallies count: every date of a whole
        month, the whole days of a netted one."""
        if month in self.months:
            return days_of(month)
        inside = set(self.days)
        return [day for day in days_of(month) if day in inside]

    def outside(self, month: str) -> list[str]:
        """A netted month's dates that are not among the split's whole days."""
        inside = set(self.tallied(month))
        return [day for day in days_of(month) if day not in inside]


def netted(parts: Split) -> Split:
    """The split with each month most of whose dates are among its whole days netted: read
    as the month's shard less the month's other days, fewer nodes than its days (a 30-day
    window holds 28 whole days of 9 cameras: 252 fat day nodes, or 9 shards and 27 day
    nodes). Only for answers that add counts up: a netted month's days outside the window
    are counted negative (`negated`)."""
    inside: dict[str, int] = {}
    for day in parts.days:
        inside[day[:7]] = inside.get(day[:7], 0) + 1
    return replace(parts, netted=tuple(month for month, days in sorted(inside.items())
                                       if 2 * days > len(days_of(month)) + 1))


def negated(stored: Sequence[int], of_label: bool) -> list[int]:
    """A stored property with every count negated (a label's codes kept)."""
    if not of_label:
        return [-count for count in stored]
    return [number if index % 2 == 0 else -number for index, number in enumerate(stored)]


def unfolded_days(nodes: Iterable[Row], months: Sequence[str] | None) -> set[tuple[str, str]]:
    """(camera, date) of the days the registries among these nodes hold unfolded, in those
    months (every one: None); what is no text is nothing the writer registered."""
    return {(node["camera"], day) for node in nodes if node["level"] == UNFOLDED
            for day in node["dates"] or ()
            if isinstance(day, str) and (months is None or day[:7] in months)}


def filed_under_thin(days: Iterable[Row], unfolded: set[tuple[str, str]],
                     whole_history: bool) -> list[Row]:
    """Day rows with each unfolded day filed under the thin period it adds to (its month,
    or all time: None), as part of it; the other (whole) days as they are."""
    return [{**row, "period": None if whole_history else row["period"][:7]}
            if (row["camera"], row["period"]) in unfolded else row for row in days]


def split(span: Window, by_day: bool = False) -> Split:
    """Which of the window's dates lie wholly inside it (every image filed under them was
    captured inside it, whatever the camera's offset) and which straddle an end; the inside
    ones grouped into whole months unless the question needs days."""
    inside = [day for day in span.dates if _inside(day, span)]
    held = set(inside)  # all time holds hundreds of dates: each is placed once
    edges = tuple(day for day in span.dates if day not in held)
    months = () if by_day else tuple(
        month for month in months_of(inside) if all(_inside(day, span) for day in _ends(month)))
    return Split(months, tuple(day for day in inside if day[:7] not in months), edges)


def days_of(month: str) -> list[str]:
    """Every calendar date of a month (YYYY-MM)."""
    first, last = _ends(month)
    return calendar_days(first, 0, int(last[8:]) - 1)


def calendar_days(day: str, before: int, after: int) -> list[str]:
    """The dates from `before` days before `day` to `after` days after it (those the
    calendar holds)."""
    start = date.fromisoformat(day)
    found = []
    for shift in range(-before, after + 1):
        try:
            found.append((start + timedelta(days=shift)).isoformat())
        except OverflowError:
            continue
    return found


def _ends(month: str) -> tuple[str, str]:
    """A month's first and last date (a date's: itself); ('', '') for text that is no month
    (never inside)."""
    if len(month) == 10:
        return month, month
    try:
        year, number = int(month[:4]), int(month[5:7])
        last = calendar.monthrange(year, number)[1]
        return date(year, number, 1).isoformat(), date(year, number, last).isoformat()
    except ValueError:
        return "", ""


def utc_midnight(day: str) -> int:
    """The date's UTC midnight (epoch seconds); ValueError for text that is no date."""
    return (date.fromisoformat(day).toordinal() - _EPOCH) * DAY_SECONDS


def _inside(day: str, span: Window) -> bool:
    try:
        midnight = utc_midnight(day)
    except ValueError:  # a stored date that is no date is read from its images
        return False
    return (span.since <= midnight - _BEFORE_MIDNIGHT
            and midnight + _AFTER_MIDNIGHT <= span.until)


def sharpen(parts: Split, span: Window, nodes: Iterable[Row], of_label: bool
            ) -> tuple[Split, list[Row]]:
    """The split with its end dates narrowed by the UTC offsets their day nodes hold (one
    node per camera and date, read with one property's cells): a local hour lies wholly
    inside the window when every capture it can hold, whatever the offset among the
    camera's that day, does; those hours are answered by the node's cells (the returned
    rows, cut to them), the hours that straddle an end by the camera's images, the hours
    wholly outside by nothing. A node that holds no offsets (written before them) has its
    24 hours read from the images; a date that is no date is read whole, as before; a
    camera without a node on a date holds no image of it."""
    whole, hours, rows = set(), [], []
    for node in nodes:
        day, camera = node["period"], node["camera"]
        if day not in parts.edges:
            continue
        if not is_date(day):
            whole.add(day)
            continue
        offsets = offsets_of(node.get("offsets"))
        inside, straddle = (set(), list(range(HOURS))) if offsets is None else (
            hours_by_place(day, offsets, span))
        hours += [camera_hour(camera, day, hour) for hour in straddle]
        if inside and node["cells"]:
            rows.append({**node, "cells": cut_to_hours(node["cells"], inside, of_label)})
    return replace(parts, edges=tuple(sorted(whole)), hours=tuple(sorted(hours))), rows


def camera_hour(camera: str, day: str, hour: int) -> str:
    """One camera's local hour of a date as the end statements match it: the capture
    time's first 13 characters ("YYYY-MM-DDTHH", a fixed length, so no camera name can
    make two of them one) followed by the camera's name."""
    return f"{day}T{hour:02d}{camera}"


def is_date(day: str) -> bool:
    try:
        utc_midnight(day)
    except ValueError:
        return False
    return True


def offsets_of(held: object) -> tuple[int, int] | None:
    """A node's least and greatest UTC offset in seconds; None for anything but a list of
    offsets (minutes) under a day."""
    if not isinstance(held, list) or not held:
        return None
    if not all(isinstance(minutes, int) and abs(minutes) < _DAY_MINUTES for minutes in held):
        return None
    return min(held) * 60, max(held) * 60


def hours_by_place(day: str, offsets: tuple[int, int], span: Window
                   ) -> tuple[set[int], list[int]]:
    """A date's local hours wholly inside the window, and those straddling one of its ends:
    hour h holds captures in [midnight + h hours - greatest offset, midnight + h + 1 hours
    - least offset)."""
    midnight, (low, high) = utc_midnight(day), offsets
    inside, straddle = set(), []
    for hour in range(HOURS):
        first = midnight + hour * HOUR_SECONDS - high
        end = midnight + (hour + 1) * HOUR_SECONDS - low
        if span.since <= first and end <= span.until:
            inside.add(hour)
        elif end > span.since and first < span.until:
            straddle.append(hour)
    return inside, straddle


def cut_to_hours(stored: Sequence[int], hours: set[int], of_label: bool) -> list[int]:
    """A stored property's cells of those local hours only, stored alike."""
    if not of_label:
        return [count if hour in hours else 0 for hour, count in enumerate(stored)]
    return [number for cell in cells(stored, of_label=True) if cell.hour in hours
            for number in (cell.hour * BUCKETS + (cell.bucket or 0), cell.images)]


def histogram_rows(tallies: Iterable[Row], width: float | None, threshold: float) -> list[Row]:
    """The histogram statement's rows, added up from a label's cells: per confidence bucket
    first, straight from the stored pairs (all time holds tens of thousands of cells, and a
    Cell per pair cost most of the answer's time), then per bucket of the asked width."""
    per_bucket = [0] * BUCKETS
    for tally in tallies:
        stored = tally["cells"] or ()
        for code, count in zip(stored[0::2], stored[1::2], strict=True):
            per_bucket[code % BUCKETS] += count
    totals: dict[float, list[int]] = {}
    for confidence, images in enumerate(per_bucket):
        bucket = float(confidence if width is None else math.floor(confidence / width) * width)
        held = totals.setdefault(bucket, [0, 0])
        held[0] += images
        held[1] += images if confidence >= threshold else 0
    return [{"bucket": bucket, "images": images, "at_or_above": above}
            for bucket, (images, above) in sorted(totals.items()) if images]


def add_histograms(*parts: Iterable[Row]) -> list[Row]:
    """Histogram rows of disjoint parts of a window, added up per bucket."""
    totals: dict[float, list[int]] = {}
    for rows in parts:
        for row in rows:
            held = totals.setdefault(float(row["bucket"]), [0, 0])
            held[0] += row["images"]
            held[1] += row["at_or_above"]
    return [{"bucket": bucket, "images": images, "at_or_above": above}
            for bucket, (images, above) in sorted(totals.items()) if images]


def dates_counted(dates: Iterable[str], edges: Iterable[str], tallies: Iterable[Row]
                  ) -> list[str]:
    """Those of `dates` in a period (a month or a day) where the tallies count an image,
    and `edges` (dates no tally answers), in their order."""
    periods = {tally["period"] for tally in tallies if images_counted([tally])}
    kept = set(edges)
    return [day for day in dates if day in kept or day in periods or day[:7] in periods]


def images_counted(tallies: Iterable[Row], of_label: bool = False,
                   min_confidence: float = 0) -> int:
    """Images the tallies count (of a label: at or above an integer confidence), added up
    from the stored pairs without a Cell each (a month's answer holds thousands)."""
    bar = math.ceil(min_confidence)
    total = 0
    for tally in tallies:
        stored = tally["cells"] or ()
        if not of_label:
            total += sum(stored)
        elif bar <= 0:
            total += sum(stored[1::2])
        else:
            total += sum(count for code, count in zip(stored[0::2], stored[1::2], strict=True)
                         if code % BUCKETS >= bar)
    return total


def per_period(tallies: Iterable[Row], min_confidence: float) -> Counts:
    """A label's images at or above an integer confidence per (camera, period), non-zero."""
    counts: Counts = {}
    for tally in tallies:
        images = images_counted([tally], True, min_confidence)
        if images:
            place = (tally["camera"], tally["period"])
            counts[place] = counts.get(place, 0) + images
    return counts


Ends = dict[str, tuple[str | None, str | None]]
"""camera -> the first and last period (or date) whose images hold its first and last
capture; None where the window's end dates already hold it."""


Bounds = dict[str, tuple[int, int]]
"""camera -> the earliest capture its tallied cells can hold, and the second after the
latest."""


def capture_bounds(tallies: Iterable[Row], min_confidence: float) -> Bounds:
    """Per camera, when the captures a label's cells (at or above an integer confidence)
    count can have been taken: from a day node's offsets and its first and last hour
    holding any, or whatever the offset for a node without them and for a month."""
    bounds: Bounds = {}
    for tally in tallies:
        hours = [cell.hour for cell in cells(tally["cells"], True, min_confidence)]
        if hours:
            low, high = _possible_captures(tally, min(hours), max(hours))
            held = bounds.get(tally["camera"], (low, high))
            bounds[tally["camera"]] = (min(held[0], low), max(held[1], high))
    return bounds


def _possible_captures(tally: Row, first_hour: int, last_hour: int) -> tuple[int, int]:
    period = tally["period"]
    if period is None:  # all time: nothing settles it
        return EARLIEST, LATEST
    first, last = _ends(period)
    offsets = offsets_of(tally.get("offsets")) if len(period) == 10 else None
    if offsets is None:
        return utc_midnight(first) - _BEFORE_MIDNIGHT, utc_midnight(last) + _AFTER_MIDNIGHT
    low, high = offsets
    return (utc_midnight(first) + first_hour * HOUR_SECONDS - high,
            utc_midnight(first) + (last_hour + 1) * HOUR_SECONDS - low)


def unsettled_ends(counts: Counts, edges: Iterable[Row], bounds: Bounds) -> Ends:
    """Each camera's first and last period holding images, where the images read at the
    window's ends do not settle its first (last) capture: one of theirs at or before
    (after) every capture its tallied cells can hold (`capture_bounds`)."""
    spans = {row["camera"]: (row["first_ts"], row["last_ts"]) for row in edges}
    ends: Ends = {}
    for camera, (first, last) in _period_ends(counts).items():
        held, (low, high) = spans.get(camera), bounds.get(camera, (EARLIEST, LATEST))
        early = held is not None and held[0] <= low
        late = held is not None and held[1] >= high - 1
        if not (early and late):
            ends[camera] = (None if early else first, None if late else last)
    return ends


EndHours = dict[str, tuple[frozenset[str] | None, frozenset[str] | None]]
"""camera -> the hours (`camera_hour` text) that can hold its first and its last capture;
None where they cannot be told."""


def end_hours(tallies: Iterable[Row], min_confidence: float) -> EndHours:
    """Per camera, the local hours (`camera_hour` text) that can hold the
    first and the last capture its tallied cells count (a label's, at or above an integer
    confidence): an hour that can begin before every other one's end can hold the first,
    one that can end after every other one's beginning the last. None for an end that a
    month, all time or a day node without offsets could hold: the images of its dates
    settle it, as before."""
    places: dict[str, list[tuple[int, int, str | None]]] = {}
    for tally in tallies:
        held = places.setdefault(tally["camera"], [])
        period = tally["period"]
        offsets = (offsets_of(tally.get("offsets"))
                   if isinstance(period, str) and is_date(period) else None)
        for hour in {cell.hour for cell in cells(tally["cells"], True, min_confidence)}:
            if offsets is None:
                held.append((*_possible_captures(tally, hour, hour), None))
                continue
            first = utc_midnight(period) + hour * HOUR_SECONDS
            held.append((first - offsets[1], first + HOUR_SECONDS - offsets[0],
                         camera_hour(tally["camera"], period, hour)))
    return {camera: (_hours_where(held, first=True), _hours_where(held, first=False))
            for camera, held in places.items() if held}


def _hours_where(held: list[tuple[int, int, str | None]], first: bool
                 ) -> frozenset[str] | None:
    if first:
        bound = min(end for _, end, _ in held)
        hours = {hour for begin, _, hour in held if begin < bound}
    else:
        bound = max(begin for begin, _, _ in held)
        hours = {hour for _, end, hour in held if end > bound}
    return None if None in hours else frozenset(hour for hour in hours if hour is not None)


def settled_by_hours(ends: Ends, hours: EndHours) -> tuple[Ends, list[str]]:
    """The ends the images of their hours (`end_hours`) settle taken out of `ends`, and
    those hours (camera_hour text)."""
    left: Ends = {}
    read: set[str] = set()
    for camera, pair in ends.items():
        candidates = hours.get(camera, (None, None))
        kept = []
        for end, held in zip(pair, candidates, strict=True):
            if end is not None and held is not None:
                read.update(held)
                end = None
            kept.append(end)
        if kept[0] is not None or kept[1] is not None:
            left[camera] = (kept[0], kept[1])
    return left, sorted(read)


def month_ends(counts: Counts, parts: Split) -> dict[tuple[str, bool], set[str]]:
    """(month, whether from its start) -> the cameras whose first (last) capture its
    tallied dates may hold, walked from that end: a camera's first (last) month holding
    images, unless a date holding them lies over two days before (after) the month's
    first (last) tallied date (a capture filed under a date three on is later, whatever
    the offsets)."""
    periods: dict[str, list[str]] = {}
    for camera, period in counts:
        periods.setdefault(camera, []).append(period)
    found: dict[tuple[str, bool], set[str]] = {}
    for camera, held in periods.items():
        months = sorted(period for period in held if len(period) == 7)
        dates = sorted(period for period in held if is_date(period))
        if not months:
            continue
        first, last = parts.tallied(months[0]), parts.tallied(months[-1])
        if first and (not dates or first[0] <= calendar_days(dates[0], 0, 2)[-1]):
            found.setdefault((months[0], True), set()).add(camera)
        if last and (not dates or last[-1] >= calendar_days(dates[-1], 2, 0)[0]):
            found.setdefault((months[-1], False), set()).add(camera)
    return found


def end_days(ends: Ends, day_counts: Counts) -> Ends:
    """The ends with each month opened into its first (or last) date holding images."""
    def day_of(camera: str, period: str | None, pick: Callable[[list[str]], str]) -> str | None:
        if period is None or len(period) == 10:
            return period
        days = [day for held, day in day_counts if held == camera and day[:7] == period]
        return pick(days or list(_ends(period)))

    return {camera: (day_of(camera, first, min), day_of(camera, last, max))
            for camera, (first, last) in ends.items()}


def end_dates(ends: Ends) -> list[str]:
    """The dates whose images hold each camera's first and last capture: an image filed
    under a later date than another may still be captured before it (offsets differ), but
    not from three dates on."""
    return sorted({day for first, last in ends.values()
                   for day in (*(calendar_days(first, 0, 2) if first else ()),
                               *(calendar_days(last, 2, 0) if last else ()))})


def sightings_rows(counts: Counts, edges: Iterable[Row], ends: Iterable[Row]) -> list[Row]:
    """The sightings statement's rows: images per camera from the tallies and the window's
    end dates, first and last capture from the end dates and the images of the tallies'
    end dates (each an exact part of the window's images)."""
    images: dict[str, int] = {}
    for (camera, _), count in counts.items():
        images[camera] = images.get(camera, 0) + count
    for row in edges:
        images[row["camera"]] = images.get(row["camera"], 0) + row["images"]
    spans: dict[str, tuple[int, int]] = {}
    for row in (*edges, *ends):
        held = spans.get(row["camera"], (row["first_ts"], row["last_ts"]))
        spans[row["camera"]] = (min(held[0], row["first_ts"]), max(held[1], row["last_ts"]))
    return sorted(({"camera": camera, "images": count,
                    "first_ts": spans.get(camera, (None, None))[0],
                    "last_ts": spans.get(camera, (None, None))[1]}
                   for camera, count in images.items()),
                  key=lambda row: (-row["images"], row["camera"]))


def _period_ends(counts: Counts) -> dict[str, tuple[str, str]]:
    """Each camera's first and last period holding images (ISO text sorts a whole month
    between the days before and after it; its first and last dates are its ends)."""
    ends: dict[str, tuple[str, str]] = {}
    for camera, period in counts:
        first, last = ends.get(camera, (period, period))
        ends[camera] = (min(first, period), max(last, period))
    return ends


ROLLUP_PARTS = ("camera", "year", "month", "day", "hour")


def rollup_rows(tallies: Iterable[Row], parts: Sequence[str], label: str | None,
                min_confidence: float) -> list[Row]:
    """The rollup statement's rows (a part not asked for is null), from tallies of days
    (when the day is asked), months or all time (period None)."""
    groups: dict[Group, int] = {}
    for tally in tallies:
        year, month, day = _period_parts(tally["period"])
        for cell in cells(tally["cells"], label is not None, min_confidence):
            values = (tally["camera"], year, month, day, cell.hour)
            group = tuple(value if part in parts else None
                          for part, value in zip(ROLLUP_PARTS, values, strict=True))
            groups[group] = groups.get(group, 0) + cell.images
    return _rollup_rows(groups)


def _period_parts(period: str | None) -> tuple[int | None, int | None, int | None]:
    """Year, month and day of a period (a date, a month, or all time: None)."""
    if period is None:
        return None, None, None
    return int(period[:4]), int(period[5:7]), int(period[8:10]) if len(period) == 10 else None


def add_rollups(*parts: Iterable[Row]) -> list[Row]:
    """Rollup rows of disjoint parts of a window, added up per group."""
    groups: dict[Group, int] = {}
    for rows in parts:
        for row in rows:
            group = tuple(row[part] for part in ROLLUP_PARTS)
            groups[group] = groups.get(group, 0) + row["images"]
    return _rollup_rows(groups)


def _rollup_rows(groups: dict[Group, int]) -> list[Row]:
    return [dict(zip((*ROLLUP_PARTS, "images"), (*group, images), strict=True))
            for group, images in groups.items() if images]
