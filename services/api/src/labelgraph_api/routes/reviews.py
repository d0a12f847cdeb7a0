"""Reviewers' verdicts and what they say about the detector's accuracy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from labelgraph_api.deps import (
    Cameras,
    Cursor,
    Detector,
    DetectorNames,
    Limit,
    Links,
    QueryDigest,
    Reads,
    ReviewGraph,
    Since,
    Threshold,
    Thresholds,
    Until,
    Verdicts,
)
from labelgraph_api.handlers import accuracy as judging
from labelgraph_api.handlers import verdicts
from labelgraph_api.models import (
    Accuracy,
    DetectorComparison,
    ReviewedPage,
    ReviewQueue,
    Verdict,
    VerdictIn,
)
from labelgraph_contract.bounds import NAME_MAX_CHARS

router = APIRouter(tags=["accuracy"])
LabelQuery = Annotated[str, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                  description="Label judged, in any case.")]
Step = Annotated[float, Query(ge=0.5, le=100, description="Curve threshold step.")]
TargetRecallQuery = Annotated[float | None, Query(
    gt=0, le=100, description="Recall (percent) each detector should reach: the threshold "
                              "it needs and its precision there.")]


@router.put("/verdicts", response_model=Verdict)
async def record_verdict(verdict: VerdictIn, reads: Reads, graph: ReviewGraph,
                         store: Verdicts) -> dict[str, Any]:
    """Record (or change) whether a label is truly on an image; the detector's data stays."""
    recorded = await verdicts.record_verdict(
        reads, graph, store, object_key=verdict.object_key, label=verdict.label,
        present=verdict.present, reviewer=verdict.reviewer)
    if recorded is None:
        raise HTTPException(404, detail=f"no image with object key {verdict.object_key!r}")
    return recorded.as_row()


@router.get("/accuracy", response_model=Accuracy)
async def accuracy(
    reads: Reads, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: Detector = None,
    threshold: Threshold = 90, step: Step = 5,
) -> dict[str, Any]:
    """TP/FP/FN/TN, precision, recall and miss rate of the detector against reviewers,
    overall and per camera."""
    return await judging.accuracy(reads, label=label, cameras=camera, since=since,
                                  until=until, detector=detector, threshold=threshold,
                                  step=step)


@router.get("/accuracy/detectors", response_model=DetectorComparison)
async def accuracy_by_detector(
    reads: Reads, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: DetectorNames = None, threshold: Threshold = 90,
    thresholds: Thresholds = None, step: Step = 5, target_recall: TargetRecallQuery = None,
) -> dict[str, Any]:
    """Each detector's accuracy on the same reviewed images: those every compared one labelled."""
    return await judging.compare(reads, label=label, cameras=camera, since=since, until=until,
                                 detectors=detector, threshold=threshold,
                                 thresholds=thresholds or (), step=step,
                                 target_recall=target_recall)


@router.get("/review-queue", response_model=ReviewQueue)
async def review_queue(
    reads: Reads, links: Links, query: QueryDigest, label: LabelQuery = "Person",
    camera: Cameras = None, since: Since = None, until: Until = None, limit: Limit = 50,
    cursor: Cursor = None,
    threshold: Threshold = 90, thresholds: Thresholds = None,
) -> dict[str, Any]:
    """Images nobody judged for the label yet: where detectors disagree first, then those
    without it (misses hide there), then the least confident."""
    return await judging.review_queue(reads, links, label=label, cameras=camera, since=since,
                                      until=until, limit=limit, cursor=cursor,
                                      threshold=threshold, thresholds=thresholds or (),
                                      query=query)


@router.get("/reviewed", response_model=ReviewedPage)
async def reviewed_images(
    reads: Reads, links: Links, query: QueryDigest, label: LabelQuery = "Person",
    camera: Cameras = None, since: Since = None, until: Until = None, limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Images already judged for the label, newest first, each with its current verdict:
    what a reviewer goes back over to judge again."""
    return await judging.reviewed_images(reads, links, label=label, cameras=camera,
                                         since=since, until=until, limit=limit, cursor=cursor,
                                         query=query)
