"""Use cases of accuracy: the detectors against reviewers' verdicts, and what to review next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from labelgraph_api.breakdown import judged_by, silent_detectors
from labelgraph_api.calibration import Calibration, fit_calibration
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
    sample_rank,
    threshold_for_recall,
)
from labelgraph_api.handlers.scope import check_detector, label_named, window_of
from labelgraph_api.ports import GraphReads, ImageLinks
from labelgraph_api.stats import Proportion

Body = dict[str, Any]
Verdicts = list[tuple[bool, float | None]]


async def accuracy(reads: GraphReads, *, label: str, cameras: list[str] | None,
                   since: datetime | None, until: datetime | None, detector: str | None,
                   threshold: float, step: float) -> Body:
    """TP/FP/FN/TN, precision, recall and miss rate against reviewers, overall and per camera."""
    span = await window_of(reads, since, until, cameras=cameras, listing_dates=False)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed(span, label=label, cameras=cameras, detector=detector)
    await check_detector(reads, detector, bool(rows))
    verdicts = [(row["present"], row["confidence"]) for row in rows]
    sampled = [(row["present"], row["confidence"]) for row in rows if row["sampled"]]
    fit = fit_calibration(verdicts)
    per_camera: dict[str, Verdicts] = {}
    for row in rows:
        per_camera.setdefault(row["camera"], []).append((row["present"], row["confidence"]))
    return {"label": label, "cameras": cameras, "since": since, "until": until,
            "detector": detector, "reviewed": len(verdicts),
            "at_threshold": counts_body(confusion(verdicts, threshold), fit),
            "curve": [counts_body(point, fit) for point in curve(verdicts, step)],
            "calibration": fit.as_body(),
            "recall_estimates": _recall_estimates(verdicts, sampled, threshold),
            "per_camera": [{"camera": name, "reviewed": len(per_camera[name]),
                            "at_threshold": counts_body(confusion(per_camera[name], threshold))}
                           for name in sorted(per_camera)], "unknown_labels": unknown}


async def compare(reads: GraphReads, *, label: str, cameras: list[str] | None,
                  since: datetime | None, until: datetime | None, detectors: list[str] | None,
                  threshold: float, thresholds: Sequence[str], step: float,
                  target_recall: float | None, calibrated: float | None = None) -> Body:
    """Each detector's accuracy on the same reviewed images: those every compared one labelled;
    with `calibrated`, each at the raw threshold where its calibration reaches that
    probability."""
    asked = detector_names(detectors)
    overrides = parse_thresholds(thresholds)
    span = await window_of(reads, since, until, cameras=cameras, listing_dates=False)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed_by_detector(span, label=label, cameras=cameras)
    silent = silent_detectors(rows)
    compared = compare_detectors(without_silent(rows, silent), spoken(asked, silent))
    for name in asked or ():
        await check_detector(reads, name, name in silent or compared.labelled_by[name] > 0)
    results = []
    for name in compared.detectors:
        fits = _calibrations(without_silent(rows, silent), name)
        verdicts, bar = compared.verdicts[name], overrides.get(name, threshold)
        if calibrated is not None:
            bar = fits[None].threshold_for(calibrated)
        target = None if target_recall is None else threshold_for_recall(verdicts, target_recall)
        results.append({"detector": name, "threshold": bar,
                        "labelled": compared.labelled_by[name],
                        "calibration": _calibration_body(fits, calibrated),
                        "at_threshold": counts_body(confusion(verdicts, bar), fits[None]),
                        "target_recall": _target(target),
                        "curve": [counts_body(point) for point in curve(verdicts, step)]})
    return {"label": label, "cameras": cameras, "since": since, "until": until,
            "threshold": threshold, "calibrated": calibrated,
            "reviewed": compared.reviewed, "compared": compared.shared,
            "detectors": results, "silent_detectors": silent_body(silent),
            "unknown_labels": unknown}


async def review_queue(reads: GraphReads, links: ImageLinks, *, label: str,
                       cameras: list[str] | None, since: datetime | None,
                       until: datetime | None, limit: int, cursor: str | None,
                       threshold: float, thresholds: Sequence[str], query: str,
                       mode: str = "priority", seed: int = 0) -> Body:
    """Images nobody judged for the label yet: where detectors disagree first, then those
    without it (misses hide there), then the least confident; each with why it is there.
    In `sample` mode, every image in scope the sample has not judged, in the seed's random
    order. `query` is the digest of the filters, which the cursor carries."""
    overrides = parse_thresholds(thresholds)
    if mode == "sample":
        return await _sample_queue(reads, links, label=label, cameras=cameras, since=since,
                                   until=until, limit=limit, cursor=cursor, query=query,
                                   seed=seed, threshold=threshold, thresholds=overrides)
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
    return {"label": label, "mode": mode, "seed": seed, "threshold": threshold,
            "thresholds": overrides, "items": items,
            "next_cursor": encode_cursor(position, query) if position else None,
            "unknown_labels": unknown}


# The random sample orders every image in scope in Python (a portable hash in Cypher there
# is not): a window holding more is refused, not sampled from its first images.
MAX_SAMPLE_SCOPE = 50_000


async def _sample_queue(reads: GraphReads, links: ImageLinks, *, label: str,
                        cameras: list[str] | None, since: datetime | None,
                        until: datetime | None, limit: int, cursor: str | None, query: str,
                        seed: int, threshold: float, thresholds: dict[str, float]) -> Body:
    """A page of the random sample: images after the cursor's (rank, key) in hash order."""
    after = tuple(decode_cursor(cursor, (str, str), query)) if cursor else ("", "")
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    keys = await reads.sample_keys(span, MAX_SAMPLE_SCOPE + 1, label=label, cameras=cameras)
    if len(keys) > MAX_SAMPLE_SCOPE:
        raise BadRequest(f"a random sample orders at most {MAX_SAMPLE_SCOPE} images: narrow "
                         "the window or the cameras")
    ranked = sorted((rank, key) for key in keys
                    if (rank := sample_rank(seed, key), key) > after)[:limit]
    images = {row["object_key"]: row
              for row in await reads.images_by_keys([key for _, key in ranked])}
    items = [{**links.attach(images[key]), "by_detector": labels_by_detector(images[key]),
              "reason": "random sample", "label_confidence": _top_confidence(images[key], label)}
             for _, key in ranked if key in images]
    last = ranked[-1] if len(ranked) == limit else None
    return {"label": label, "mode": "sample", "seed": seed, "threshold": threshold,
            "thresholds": thresholds, "items": items,
            "next_cursor": encode_cursor(last, query) if last else None,
            "unknown_labels": unknown}


async def reviewed_images(reads: GraphReads, links: ImageLinks, *, label: str,
                          cameras: list[str] | None, since: datetime | None,
                          until: datetime | None, limit: int, cursor: str | None,
                          query: str) -> Body:
    """Images already judged for the label, newest first, each with its verdict now: what a
    reviewer goes back over. `query` is the digest of the filters, which the cursor carries."""
    after = tuple(decode_cursor(cursor, (int, str), query)) if cursor else None
    span = await window_of(reads, since, until, cameras=cameras, listing_dates=False)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed_images(span, after, limit, label=label, cameras=cameras)
    last = rows[-1] if len(rows) == limit else None
    items = [{**links.attach(row), "by_detector": labels_by_detector(row),
              "label_confidence": _top_confidence(row, label)} for row in rows]
    position = (last["timestamp"], last["object_key"]) if last else None
    return {"label": label, "items": items, "unknown_labels": unknown,
            "next_cursor": encode_cursor(position, query) if position else None}




def counts_body(point: Confusion, fit: Calibration | None = None) -> Body:
    """A confusion as the api answers it: counts, rates, and each rate's count and interval;
    with a fit, the calibrated probability of the label at its threshold."""
    present = point.true_positives + point.false_negatives
    flagged = point.true_positives + point.false_positives
    return {**asdict(point), "precision": point.precision, "recall": point.recall,
            "calibrated": None if fit is None else fit.probability(point.threshold),
            "false_negative_rate": point.false_negative_rate,
            "recall_interval": Proportion(point.true_positives, present).as_body(),
            "precision_interval": Proportion(point.true_positives, flagged).as_body()}


# The two recall estimates, each with what it can be trusted for.
FROM_SAMPLE = "from the random sample: unbiased"
FROM_ALL = "from all reviews: biased toward disagreements"


def _recall_estimates(verdicts: Verdicts, sampled: Verdicts, threshold: float) -> list[Body]:
    """Recall at the threshold from the random-sample verdicts alone, and from every verdict
    (the review queue puts disagreements and misses first, so those are over-represented)."""
    def estimate(source: str, note: str, judged: Verdicts) -> Body:
        point = confusion(judged, threshold)
        return {"source": source, "note": note, "verdicts": len(judged),
                "recall": Proportion(point.true_positives,
                                     point.true_positives + point.false_negatives).as_body()}
    return [estimate("sample", FROM_SAMPLE, sampled), estimate("all", FROM_ALL, verdicts)]


def _calibrations(rows: list[Body], detector: str) -> dict[str | None, Calibration]:
    """The detector's calibration on every reviewed image it labelled (key None) and on
    each camera's."""
    fits: dict[str | None, Calibration] = {}
    per_camera: dict[str, Verdicts] = {}
    for row in judged_by(rows, detector):
        per_camera.setdefault(row["camera"], []).append(
            (row["present"], row["confidences"].get(detector)))
    fits[None] = fit_calibration([pair for pairs in per_camera.values() for pair in pairs])
    fits.update((camera, fit_calibration(pairs)) for camera, pairs in sorted(per_camera.items()))
    return fits


def _calibration_body(fits: dict[str | None, Calibration], calibrated: float | None) -> Body:
    """The detector's fit and each camera's; a camera with too few verdicts uses the
    detector's (`own_fit` false), and without a fit the raw score stands in."""
    overall = fits[None]

    def threshold(fit: Calibration) -> float | None:
        return None if calibrated is None else fit.threshold_for(calibrated)
    return {**overall.as_body(), "threshold_for_calibrated": threshold(overall),
            "per_camera": [{"camera": camera, **fit.as_body(), "own_fit": fit.fitted,
                            "threshold_for_calibrated": threshold(fit if fit.fitted
                                                                  else overall)}
                           for camera, fit in fits.items() if camera is not None]}


def silent_body(silent: dict[str, int]) -> list[Body]:
    """The detectors left out for labelling nothing at all on the reviewed images in scope."""
    return [{"detector": name, "images": images} for name, images in silent.items()]


def without_silent(rows: list[Body], silent: dict[str, int]) -> list[Body]:
    """The rows as if the silent detectors had not labelled them: they judge nothing here."""
    return [{**row, "detectors": [name for name in row["detectors"] if name not in silent]}
            for row in rows]


def spoken(asked: list[str] | None, silent: dict[str, int]) -> list[str] | None:
    """The asked detectors that are no silent ones (all when none was asked)."""
    return None if asked is None else [name for name in asked if name not in silent]


def detector_names(names: list[str] | None) -> list[str] | None:
    if names and (len(names) > MAX_DETECTORS or any(not 0 < len(n) <= MAX_NAME for n in names)):
        raise BadRequest(f"detector takes at most {MAX_DETECTORS} names of 1-{MAX_NAME} "
                         "characters")
    return names


def _target(target: TargetRecall | None) -> Body | None:
    if target is None:
        return None
    return {"target": target.target, "reached": target.reached, "threshold": target.threshold,
            "at_threshold": counts_body(target.at_threshold) if target.at_threshold else None,
            "best_recall": target.best_recall}


def _top_confidence(row: Body, label: str) -> float | None:
    confidences = [item["confidence"] for item in row["labels"] if item["name"] == label]
    return max(confidences, default=None)
