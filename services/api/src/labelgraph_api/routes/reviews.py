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
    DetectorNames,
    Graph,
    Limit,
    Links,
    Since,
    Threshold,
    Thresholds,
    Until,
    Verdicts,
)
from labelgraph_api.domain import (
    MAX_DETECTORS,
    MAX_NAME,
    BadRequest,
    Confusion,
    TargetRecall,
    check_window,
    compare_detectors,
    confusion,
    curve,
    decode_cursor,
    encode_cursor,
    epoch,
    parse_thresholds,
    queue_reason,
    threshold_for_recall,
)
from labelgraph_api.models import (
    Accuracy,
    DetectorComparison,
    ReviewQueue,
    Verdict,
    VerdictIn,
)
from labelgraph_api.verdicts import StoredVerdict

router = APIRouter(tags=["accuracy"])
LabelQuery = Annotated[str, Query(min_length=1, max_length=200, description="Label judged.")]
Step = Annotated[float, Query(ge=0.5, le=100, description="Curve threshold step.")]
TargetRecallQuery = Annotated[float | None, Query(
    gt=0, le=100, description="Recall (percent) each detector should reach: the threshold "
                              "it needs and its precision there.")]


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
    threshold: Threshold = 90, step: Step = 5,
) -> dict[str, Any]:
    """TP/FP/FN/TN, precision, recall and miss rate of the detector against reviewers."""
    check_window(since, until)
    label = await questions.label_named(graph, label)
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.reviewed(graph, span, label=label, cameras=camera,
                                    detector=detector)
    verdicts = [(row["present"], row["confidence"]) for row in rows]
    per_camera: dict[str, list[tuple[bool, float | None]]] = {}
    for row in rows:
        per_camera.setdefault(row["camera"], []).append((row["present"], row["confidence"]))
    return {"label": label, "cameras": camera, "since": since, "until": until,
            "detector": detector, "reviewed": len(verdicts),
            "at_threshold": _counts(confusion(verdicts, threshold)),
            "curve": [_counts(point) for point in curve(verdicts, step)],
            "per_camera": [{"camera": name, "reviewed": len(per_camera[name]),
                            "at_threshold": _counts(confusion(per_camera[name], threshold))}
                           for name in sorted(per_camera)]}


def _counts(point: Confusion) -> dict[str, Any]:
    return {**asdict(point), "precision": point.precision, "recall": point.recall,
            "false_negative_rate": point.false_negative_rate}


@router.get("/accuracy/detectors", response_model=DetectorComparison)
async def accuracy_by_detector(
    graph: Graph, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: DetectorNames = None, threshold: Threshold = 90,
    thresholds: Thresholds = None, step: Step = 5, target_recall: TargetRecallQuery = None,
) -> dict[str, Any]:
    """Each detector's accuracy on the same reviewed images: those every compared one labelled."""
    check_window(since, until)
    asked = _detector_names(detector)
    overrides = parse_thresholds(thresholds or ())
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.reviewed_by_detector(graph, span, label=label, cameras=camera)
    compared = compare_detectors(rows, asked)
    results = []
    for name in compared.detectors:
        verdicts, bar = compared.verdicts[name], overrides.get(name, threshold)
        target = None if target_recall is None else threshold_for_recall(verdicts, target_recall)
        results.append({"detector": name, "threshold": bar,
                        "labelled": compared.labelled_by[name],
                        "at_threshold": _counts(confusion(verdicts, bar)),
                        "target_recall": _target(target),
                        "curve": [_counts(point) for point in curve(verdicts, step)]})
    return {"label": label, "cameras": camera, "since": since, "until": until,
            "threshold": threshold, "reviewed": compared.reviewed, "compared": compared.shared,
            "detectors": results}


def _detector_names(names: list[str] | None) -> list[str] | None:
    if names and (len(names) > MAX_DETECTORS or any(not 0 < len(n) <= MAX_NAME for n in names)):
        raise BadRequest(f"detector takes at most {MAX_DETECTORS} names of 1-{MAX_NAME} "
                         "characters")
    return names


def _target(target: TargetRecall | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"target": target.target, "reached": target.reached, "threshold": target.threshold,
            "at_threshold": _counts(target.at_threshold) if target.at_threshold else None,
            "best_recall": target.best_recall}


@router.get("/review-queue", response_model=ReviewQueue)
async def review_queue(
    graph: Graph, links: Links, label: LabelQuery = "Person", camera: Cameras = None,
    since: Since = None, until: Until = None, limit: Limit = 50, cursor: Cursor = None,
    threshold: Threshold = 90, thresholds: Thresholds = None,
) -> dict[str, Any]:
    """Images nobody judged for the label yet: where detectors disagree first, then those
    without it (misses hide there), then the least confident."""
    check_window(since, until)
    overrides = parse_thresholds(thresholds or ())
    after = tuple(decode_cursor(cursor, (float, int, str))) if cursor else None
    span = await questions.window_of(graph, epoch(since), epoch(until))
    rows = await questions.review_queue(graph, span, after, limit, label=label, cameras=camera,
                                        threshold=threshold, thresholds=overrides)
    last = rows[-1] if len(rows) == limit else None
    items = [{**links.attach(row), "reason": queue_reason(row["score"]),
              "label_confidence": _top_confidence(row, label)} for row in rows]
    return {"label": label, "threshold": threshold, "thresholds": overrides, "items": items,
            "next_cursor": encode_cursor((last["score"], last["timestamp"], last["object_key"]))
            if last else None}


def _top_confidence(row: dict[str, Any], label: str) -> float | None:
    confidences = [item["confidence"] for item in row["labels"] if item["name"] == label]
    return max(confidences, default=None)
