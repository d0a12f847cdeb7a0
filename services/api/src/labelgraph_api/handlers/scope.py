"""What every read use case does first: check the window and the names, find the dates.

Cameras are a small set of nodes with unique names: an unknown one is a 422 naming some
that exist. A label no image carries may be a fair question ("any dogs?"), so an unknown
label is answered, empty, with the name in `unknown_labels`. Detectors have no nodes (their
names are on the label edges), so a detector is checked only when its answer is empty,
against the detectors of the graph's newest images (the bounded `/detectors` scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from labelgraph_api.domain import UnknownName, check_window, epoch
from labelgraph_api.ports import GraphReads
from labelgraph_api.windows import DETECTOR_SCAN_IMAGES, Window, window

# How many existing names a 422 for an unknown one lists at most.
NAMES_SHOWN = 50


async def window_of(reads: GraphReads, since: datetime | None, until: datetime | None, *,
                    cameras: Sequence[str] | None, listing_dates: bool = True) -> Window:
    """The window's bounds and dates; a 422 (BadRequest) when since is not before until or
    a camera is unknown. Without `listing_dates`, the bounds only (no date listed): for
    the questions anchored on the label's verdicts, which read nothing else, where an open
    window's dates would be read from the graph, every date of the history."""
    check_window(since, until)
    if cameras:
        await check_cameras(reads, cameras)
    if not listing_dates:
        return window(epoch(since), epoch(until), known_dates=())
    return await reads.window_of(epoch(since), epoch(until))


async def check_cameras(reads: GraphReads, cameras: Sequence[str]) -> None:
    """A 422 (UnknownName) listing some cameras when one asked for is none of them."""
    unknown = sorted(set(cameras) - await reads.cameras_named(cameras))
    if unknown:
        names = await reads.camera_names(NAMES_SHOWN + 1)
        raise UnknownName("camera", unknown, names[:NAMES_SHOWN], len(names) <= NAMES_SHOWN)


async def check_detector(reads: GraphReads, detector: str | None, answered: bool) -> None:
    """After an empty answer (`answered` false) filtered by a detector: a 422 when none of
    the graph's newest images knows that detector, listing those that do."""
    if detector is None or answered:
        return
    everything = await reads.window_of(None, None)
    seen, _, complete = await reads.detectors(everything, DETECTOR_SCAN_IMAGES)
    if detector not in seen:
        raise UnknownName("detector (none of the newest images has it)", [detector],
                          sorted(seen)[:NAMES_SHOWN], complete and len(seen) <= NAMES_SHOWN)


async def label_named(reads: GraphReads, name: str) -> tuple[str, list[str]]:
    """The label as the graph spells it (asked in any case), and [name] if it has none."""
    spelled = await reads.label_named(name)
    return (name, [name]) if spelled is None else (spelled, [])


async def labels_named(reads: GraphReads, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """The labels as the graph spells them, and those of them it has none of."""
    spelled, unknown = set(), []
    for name in names:
        label, missing = await label_named(reads, name)
        spelled.add(label)
        unknown += missing
    return sorted(spelled), sorted(unknown)
