"""The cameras' spans against a fake Bolt session: the dates walked from each end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from labelgraph_api import queries
from labelgraph_api.adapters.graph_reads import CypherReads


def ts(day: str, hour: int = 12) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC).timestamp())


class FakeSession:
    """Images per (camera, local date); answers the two camera statements like the graph."""

    def __init__(self, images: dict[tuple[str, str], list[int]]) -> None:
        self.images = images

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        if query == queries.DATES:
            # The graph promises no order: give the dates shuffled.
            days = sorted({day for _, day in self.images})
            return [{"collected": days[1::2] + days[::2]}]
        if query == queries.TALLY_STATE:
            return []  # a graph without tallies: the cameras' images are counted
        if query == queries.CAMERA_IMAGES:
            counts: dict[str, int] = {}
            for (camera, _), stamps in self.images.items():
                counts[camera] = counts.get(camera, 0) + len(stamps)
            return [{"camera": c, "images": n} for c, n in sorted(counts.items())]
        assert query == queries.CAMERA_SPANS_ON_DATES
        spans: dict[str, list[int]] = {}
        for (camera, day), stamps in self.images.items():
            if day in parameters["dates"]:
                spans.setdefault(camera, []).extend(stamps)
        return [{"camera": c, "first_ts": min(s), "last_ts": max(s)} for c, s in spans.items()]


def test_camera_spans_come_from_both_ends_of_the_time_tree_whatever_order_the_dates_come_in():
    days = [f"2016-11-{day:02d}" for day in range(1, 29)]
    images = {("front", day): [ts(day, 8), ts(day, 20)] for day in days}
    images |= {("late", day): [ts(day)] for day in days[20:25]}  # started late, retired early
    cameras = asyncio.run(CypherReads(FakeSession(images)).cameras())  # type: ignore[arg-type]
    assert cameras == [
        {"camera": "front", "images": 56, "first_ts": ts(days[0], 8), "last_ts": ts(days[-1], 20)},
        {"camera": "late", "images": 5, "first_ts": ts(days[20]), "last_ts": ts(days[24])},
    ]
