"""Use cases of accuracy: the detectors against reviewers' verdicts, and what to review next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from labelgraph_api.domain import (
    MAX_DETECTORS,
    MAX_NAME,
    BadRequest,
    Confusion,
    TargetRecall,
    compare_detectors,
    confusion,
    curve,
    decode_cursor,
    encode_cursor,
    labels_by_detector,
    parse_thresholds,
    queue_reason,
    threshold_for_recall,
)
from labelgraph_api.handlers.scope import check_detector, label_named, window_of
from labelgraph_api.ports import GraphReads, ImageLinks

Body = dict[str, Any]
Verdicts = list[tuple[bool, float | None]]


async def accuracy(reads: GraphReads, *, label: str, cameras: list[str] | None,
                   since: datetime | None, until: datetime | None, detector: str | None,
                   threshold: float, step: float) -> Body:
    """TP/FP/FN/TN, precision, recall and miss rate against reviewers, overall and per camera."""
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed(span, label=label, cameras=cameras, detector=detector)
    await check_detector(reads, detector, bool(rows))
    verdicts = [(row["present"], row["confidence"]) for row in rows]
    per_camera: dict[str, Verdicts] = {}
    for row in rows:
        per_camera.setdefault(row["camera"], []).append((row["present"], row["confidence"]))
    return {"label": label, "cameras": cameras, "since": since, "until": until,
            "detector": detector, "reviewed": len(verdicts),
            "at_threshold": _counts(confusion(verdicts, threshold)),
            "curve": [_counts(point) for point in curve(verdicts, step)],
            "per_camera": [{"camera": name, "reviewed": len(per_camera[name]),
                            "at_threshold": _counts(confusion(per_camera[name], threshold))}
                           for name in sorted(per_camera)], "unknown_labels": unknown}


async def compare(reads: GraphReads, *, label: str, cameras: list[str] | None,
                  since: datetime | None, until: datetime | None, detectors: list[str] | None,
                  threshold: float, thresholds: Sequence[str], step: float,
                  target_recall: float | None) -> Body:
    """Each detector's accuracy on the same reviewed images: those every compared one labelled."""
    asked = _detector_names(detectors)
    overrides = parse_thresholds(thresholds)
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    compared = compare_detectors(await reads.reviewed_by_detector(span, label=label,
                                                                  cameras=cameras), asked)
    for name in asked or ():
        await check_detector(reads, name, compared.labelled_by[name] > 0)
    results = []
    for name in compared.detectors:
        verdicts, bar = compared.verdicts[name], overrides.get(name, threshold)
        target = None if target_recall is None else threshold_for_recall(verdicts, target_recall)
        results.append({"detector": name, "threshold": bar,
                        "labelled": compared.labelled_by[name],
                        "at_threshold": _counts(confusion(verdicts, bar)),
                        "target_recall": _target(target),
                        "curve": [_counts(point) for point in curve(verdicts, step)]})
    return {"label": label, "cameras": cameras, "since": since, "until": until,
            "threshold": threshold, "reviewed": compared.reviewed, "compared": compared.shared,
            "detectors": results, "unknown_labels": unknown}


async def review_queue(reads: GraphReads, links: ImageLinks, *, label: str,
                       cameras: list[str] | None, since: datetime | None,
                       until: datetime | None, limit: int, cursor: str | None,
                       threshold: float, thresholds: Sequence[str], query: str) -> Body:
    """Images nobody judged for the label yet: where detectors disagree first, then those
    without it (misses hide there), then the least confident; each with why it is there.
    `query` is the digest of the filters, which the cursor carries."""
    overrides = parse_thresholds(thresholds)
    after = tuple(decode_cursor(cursor, (float, int, str), query)) if cursor else None
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.review_queue(span, after, limit, label=label, cameras=cameras,
                                    threshold=threshold, thresholds=overrides)
    last = rows[-1] if len(rows) == limit else None
    items = [{**links.attach(row), "by_detector": labels_by_detector(row),
              "reason": queue_reason(row["score"]),
              "label_confidence": _top_confidence(row, label)} for row in rows]
    position = (last["score"], last["timestamp"], last["object_key"]) if last else None
    return {"label": label, "threshold": threshold, "thresholds": overrides, "items": items,
            "next_cursor": encode_cursor(position, query) if position else None,
            "unknown_labels": unknown}


async def reviewed_images(reads: GraphReads, links: ImageLinks, *, label: str,
                          cameras: list[str] | None, since: datetime | None,
                          until: datetime | None, limit: int, cursor: str | None,
                          query: str) -> Body:
    """Images already judged for the label, newest first, each with its verdict now: what a
    reviewer goes back over. `query` is the digest of the filters, which the cursor carries."""
    after = tuple(decode_cursor(cursor, (int, str), query)) if cursor else None
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed_images(span, after, limit, label=label, cameras=cameras)
    last = rows[-1] if len(rows) == limit else None
    items = [{**links.attach(row), "by_detector": labels_by_detector(row),
              "label_confidence": _top_confidence(row, label)} for row in rows]
    position = (last["timestamp"], last["object_key"]) if last else None
    return {"label": label, "items": items, "unknown_labels": unknown,
            "next_cursor": encode_cursor(position, query) if position else None}


def _counts(point: Confusion) -> Body:
    return {**asdict(point), "precision": point.precision, "recall": point.recall,
            "false_negative_rate": point.false_negative_rate}


def _detector_names(names: list[str] | None) -> list[str] | None:
    if names and (len(names) > MAX_DETECTORS or any(not 0 < len(n) <= MAX_NAME for n in names)):
        raise BadRequest(f"detector takes at most {MAX_DETECTORS} names of 1-{MAX_NAME} "
                         "characters")
    return names


def _target(target: TargetRecall | None) -> Body | None:
    if target is None:
        return None
    return {"target": target.target, "reached": target.reached, "threshold": target.threshold,
            "at_threshold": _counts(target.at_threshold) if target.at_threshold else None,
            "best_recall": target.best_recall}


def _top_confidence(row: Body, label: str) -> float | None:
    confidences = [item["confidence"] for item in row["labels"] if item["name"] == label]
    return max(confidences, default=None)
