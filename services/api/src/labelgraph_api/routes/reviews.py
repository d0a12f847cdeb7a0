"""Reviewers' verdicts and what they say about the detector's accuracy."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from labelgraph_api import questions, verdicts
from labelgraph_api.deps import (
    Cameras,
    Cursor,
    Detector,
    Graph,
    Limit,
    Links,
    Since,
    Until,
    Verdicts,
)
from labelgraph_api.domain import (
    Confusion,
    check_window,
    confusion,
    curve,
    decode_cursor,
    encode_cursor,
    epoch,
)
from labelgraph_api.models import Accuracy, ReviewQueue, Verdict, VerdictIn
from labelgraph_api.verdicts import StoredVerdict

router = APIRouter(tags=["accuracy"])
LabelQuery = Annotated[str, Query(min_length=1, max_length=200, description="Label judged.")]


@router.put("/verdicts", response_model=Verdict)
async def record_verdict(verdict: VerdictIn, graph: Graph, store: Verdicts) -> dict[str, Any]:
    """Record (or change) whether a label is truly on an image; the detector's data stays."""
    recorded = await verdicts.record_verdict(graph, store, StoredVerdict(
        object_key=verdict.object_key, label=verdict.label, present=verdict.present,
        reviewer=verdict.reviewer, reviewed_at=datetime.now(UTC).isoformat()))
    if recorded is None:
        raise HTTPException(404, detail=f"no image with object key {verdict.object_key!r}")
    return recorded.as_row()


@router.get("/accuracy", response_model=Accuracy)
async def accuracy(
    graph: Graph, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: Detector = None,
    threshold: Annotated[float, Query(ge=0, le=100, description="Flag threshold.")] = 90,
    step: Annotated[float, Query(ge=0.5, le=100, description="Curve threshold step.")] = 5,
) -> dict[str, Any]:
    """TP/FP/FN/TN, precision, recall and miss rate of the detector against reviewers."""
    check_window(since, until)
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.reviewed(graph, span, label=label, cameras=camera,
                                    detector=detector)
    verdicts = [(row["present"], row["confidence"]) for row in rows]
    return {"label": label, "cameras": camera, "since": since, "until": until,
            "detector": detector, "reviewed": len(verdicts),
            "at_threshold": _counts(confusion(verdicts, threshold)),
            "curve": [_counts(point) for point in curve(verdicts, step)]}


def _counts(point: Confusion) -> dict[str, Any]:
    return {**asdict(point), "precision": point.precision, "recall": point.recall,
            "false_negative_rate": point.false_negative_rate}


@router.get("/review-queue", response_model=ReviewQueue)
async def review_queue(
    graph: Graph, links: Links, label: LabelQuery = "Person", camera: Cameras = None,
    since: Since = None, until: Until = None, limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Images nobody judged for the label yet; those without it first (misses hide there)."""
    check_window(since, until)
    after = tuple(decode_cursor(cursor, (float, int, str))) if cursor else None
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.review_queue(graph, span, after, limit, label=label, cameras=camera)
    last = rows[-1] if len(rows) == limit else None
    items = [{**links.attach(row), "label_confidence": None if row["score"] < 0
              else row["score"]} for row in rows]
    return {"label": label, "items": items,
            "next_cursor": encode_cursor((last["score"], last["timestamp"], last["object_key"]))
            if last else None}
