"""Which local hours of some dates hold a page's newest images, told by the day tallies
(plain logic, no I/O).

A page newest first over some dates reads every image of those dates: about 1,200 a date
at a million images, each with its ten labels. The day tallies count, per camera and local
hour, the images a page can show (a view's images, a label's cells at or above a
confidence, or the images without a label), and their UTC offsets say when each hour's
captures were taken. So a page can read the newest hours that together hold enough images,
plus any hour that may hold a newer capture than the oldest of them, instead of the dates.

A count may be an upper bound (the review queue leaves out reviewed images, which the
tallies do not know): the caller checks that the page it read is full and no older than
`HourPick.settled_from`, and asks again for more hours when it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from labelgraph_api.tallies import (
    HOUR_SECONDS,
    camera_hour,
    cells,
    is_date,
    offsets_of,
    utc_midnight,
)
from labelgraph_api.windows import EARLIEST

Row = dict[str, Any]
HourCounts = dict[tuple[str, str, int], int]
"""(camera, camera-local date, local hour) -> images a page can show."""


def counts_by_hour(nodes: Iterable[Row], of_label: bool, min_confidence: float = 0
                   ) -> HourCounts:
    """Day nodes' cells of one property (a view's images, or a label's at or above an
    integer confidence) added up per camera, date and hour."""
    counts: HourCounts = {}
    for node in nodes:
        for cell in cells(node["cells"], of_label, min_confidence):
            place = (node["camera"], node["period"], cell.hour)
            counts[place] = counts.get(place, 0) + cell.images
    return counts


def without(images: HourCounts, labelled: HourCounts) -> HourCounts:
    """The images of each hour that the label's cells do not count."""
    return {place: count - labelled.get(place, 0) for place, count in images.items()}


@dataclass(frozen=True)
class HourPick:
    """The hours to read (`camera_hour` text) and the instant every image of the other
    hours was captured before; `every` when they are all the hours holding images."""

    camera_hours: tuple[str, ...]
    settled_from: int
    every: bool

    def settles(self, rows: list[Row], limit: int) -> bool:
        """Whether the newest `limit` rows read from these hours are the dates' newest."""
        return self.every or (len(rows) >= limit
                              and rows[limit - 1]["timestamp"] >= self.settled_from)


@dataclass(frozen=True)
class _Hour:
    end: int  # the second after the latest capture it can hold
    first: int  # its earliest possible capture
    count: int
    text: str


def newest_hours(counts: HourCounts, offsets: Mapping[tuple[str, str], object],
                 since: int, edge: int, need: int, hour: int | None = None
                 ) -> HourPick | None:
    """The fewest newest hours that hold `need` images wholly inside [since, edge], with
    every hour that can hold a capture newer than the oldest of theirs; `edge` is the
    window's end or the cursor's second, whichever is earlier. None when a date's node
    holds no offsets (written before them) or is no date: the caller reads the dates.

    An hour's captures lie in [midnight + h - greatest offset, midnight + h + 1 hour -
    least offset), the offsets its day node holds."""
    hours = []
    for (camera, day, local), count in counts.items():
        if count <= 0 or (hour is not None and local != hour):
            continue
        held = offsets_of(offsets.get((camera, day))) if is_date(day) else None
        if held is None:
            return None
        start = utc_midnight(day) + local * HOUR_SECONDS
        first, end = start - held[1], start + HOUR_SECONDS - held[0]
        if first <= edge and end > since:
            hours.append(_Hour(end, first, count, camera_hour(camera, day, local)))
    hours.sort(key=lambda place: (place.end, place.first, place.text), reverse=True)
    counted, oldest = 0, None
    for place in hours:
        if counted >= need:
            break
        if since <= place.first and place.end <= edge:
            counted += place.count
            oldest = place.first if oldest is None else min(oldest, place.first)
    if counted < need or oldest is None:
        return HourPick(tuple(sorted(place.text for place in hours)), EARLIEST, every=True)
    return HourPick(tuple(sorted(place.text for place in hours if place.end > oldest)), oldest,
                    every=False)
