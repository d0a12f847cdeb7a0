"""What every read use case does first: check the window, find its dates, name the label."""

from __future__ import annotations

from datetime import datetime

from labelgraph_api.domain import check_window, epoch
from labelgraph_api.ports import GraphReads
from labelgraph_api.windows import Window


async def window_of(reads: GraphReads, since: datetime | None, until: datetime | None
                    ) -> Window:
    """The window's bounds and dates; a 422 (BadRequest) when since is not before until."""
    check_window(since, until)
    return await reads.window_of(epoch(since), epoch(until))


async def label_of(reads: GraphReads, name: str | None) -> str | None:
    """The label as the graph spells it (asked in any case), or None for no label filter."""
    return None if name is None else await reads.label_named(name)
