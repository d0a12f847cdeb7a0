"""Use cases of cameras and images: what there is, and searching it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from labelgraph_api.domain import (
    BadRequest,
    decode_cursor,
    encode_cursor,
    labels_by_detector,
    utc,
)
from labelgraph_api.handlers.scope import check_detector, labels_named, window_of
from labelgraph_api.handlers.verdicts import verdict_history
from labelgraph_api.ports import GraphReads, ImageLinks, VerdictStore

Body = dict[str, Any]


async def list_cameras(reads: GraphReads) -> list[Body]:
    """Every camera with its image count and first and last capture (UTC)."""
    return [{**row, "first_at": utc(row["first_ts"]), "last_at": utc(row["last_ts"])}
            for row in await reads.cameras()]


async def search_images(reads: GraphReads, links: ImageLinks, *, cameras: list[str] | None,
                        labels: Sequence[str], min_confidence: float | None,
                        max_confidence: float | None, since: datetime | None,
                        until: datetime | None, hour: int | None, detector: str | None,
                        limit: int, cursor: str | None, query: str) -> Body:
    """A page of images newest first carrying every asked label in range, with links;
    `query` is the digest of the filters, which the cursor carries."""
    if not labels and (min_confidence is not None or max_confidence is not None):
        raise BadRequest("a confidence range needs at least one label")
    after = tuple(decode_cursor(cursor, (int, str), query)) if cursor else None
    span = await window_of(reads, since, until, cameras=cameras)
    named, unknown = await labels_named(reads, labels)
    rows = await reads.search_images(
        span, named, after, limit, cameras=cameras, hour=hour, detector=detector,
        min_confidence=min_confidence or 0.0,
        max_confidence=100.0 if max_confidence is None else max_confidence)
    await check_detector(reads, detector, bool(rows) or after is not None)
    last = rows[-1] if len(rows) == limit else None
    return {"items": [{**links.attach(row), "by_detector": labels_by_detector(row, detector)}
                      for row in rows],
            "next_cursor": encode_cursor((last["timestamp"], last["object_key"]), query) if last
            else None, "unknown_labels": unknown}


async def image_detail(reads: GraphReads, links: ImageLinks, store: VerdictStore,
                       object_key: str) -> Body | None:
    """One image with its labels, verdicts, their history and link; None if the graph has
    no such image."""
    image = await reads.image(object_key)
    if image is None:
        return None
    return {**links.attach(image), "by_detector": labels_by_detector(image),
            "history": await verdict_history(store, object_key)}
