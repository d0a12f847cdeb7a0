"""Reviewers' verdicts and what they say about the detector's accuracy."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
from labelgraph_api.handlers import breakdown as slicing
from labelgraph_api.handlers import verdicts
from labelgraph_api.models import (
    Accuracy,
    AccuracyBreakdown,
    BulkVerdicts,
    BulkVerdictsIn,
    DetectorComparison,
    ReviewedPage,
    ReviewQueue,
    ThresholdCosts,
    UndoIn,
    Undone,
    Verdict,
    VerdictIn,
)
from labelgraph_api.verdict_history import NotTheLatest, VerdictNotFound
from labelgraph_contract.bounds import NAME_MAX_CHARS

router = APIRouter(tags=["accuracy"])
LabelQuery = Annotated[str, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                  description="Label judged, in any case.")]
Step = Annotated[float, Query(ge=0.5, le=100, description="Curve threshold step.")]
TargetRecallQuery = Annotated[float | None, Query(
    gt=0, le=100, description="Recall (percent) each detector should reach: the threshold "
                              "it needs and its precision there.")]

Night = Annotated[list[str] | None, Query(
    description=(
        "Camera-local night hours HH-HH (start inclusive, end exclusive; across midnight "
        "when start > end) for every camera, or camera:HH-HH for one; several separated by "
        "commas or the parameter repeated. Default 19-7."))]
Calibrated = Annotated[float | None, Query(
    gt=0, lt=1, description="Compare every detector at the raw threshold where its "
                            "calibration reaches this probability of the label (0-1); a "
                            "detector with too few verdicts for a fit uses 100 x it.")]
QueueMode = Annotated[Literal["priority", "sample"], Query(
    description="priority: disagreements, then unlabelled, then least confident; sample: "
                "every image in scope uniformly at random (a seeded hash of its key), "
                "flagged or not, for an unbiased recall estimate.")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1, description="The random sample's seed.")]
CostTarget = Annotated[float, Query(
    gt=0, le=100, description="Recall (percent) to reach: 95 misses at most 1 in 20.")]


@router.put("/verdicts", response_model=Verdict)
async def record_verdict(verdict: VerdictIn, reads: Reads, graph: ReviewGraph,
                         store: Verdicts) -> dict[str, Any]:
    """Record (or change) whether a label is truly on an image; the detector's data stays."""
    recorded = await verdicts.record_verdict(
        reads, graph, store, object_key=verdict.object_key, label=verdict.label,
        present=verdict.present, reviewer=verdict.reviewer, sampled=verdict.sampled)
    if recorded is None:
        raise HTTPException(404, detail=f"no image with object key {verdict.object_key!r}")
    return recorded.as_row()


@router.put("/verdicts/bulk", response_model=BulkVerdicts)
async def record_verdicts(body: BulkVerdictsIn, reads: Reads, graph: ReviewGraph,
                          store: Verdicts) -> dict[str, Any]:
    """Record one verdict on each of several images in one request (each with its own time
    and history, as a single one); keys of no image are listed, not recorded."""
    recorded, unknown = await verdicts.record_verdicts(
        reads, graph, store, object_keys=body.object_keys, label=body.label,
        present=body.present, reviewer=body.reviewer)
    return {"recorded": [verdict.as_row() for verdict in recorded],
            "unknown_object_keys": unknown}


@router.post("/verdicts/undo", response_model=Undone)
async def undo_verdict(body: UndoIn, graph: ReviewGraph, store: Verdicts) -> dict[str, Any]:
    """Undo the verdict in force on an image and label: the previous one is in force again
    (none: the image is back in the review queue); the undone one stays in the history."""
    try:
        undone = await verdicts.undo_verdict(graph, store, object_key=body.object_key,
                                             label=body.label, reviewed_at=body.reviewed_at,
                                             reviewer=body.reviewer)
    except VerdictNotFound as error:
        raise HTTPException(404, detail="no verdict given at that time on that image and "
                                        "label") from error
    except NotTheLatest as error:
        raise HTTPException(409, detail="a later verdict was given since: only the verdict "
                                        "in force can be undone") from error
    return {"undone": undone.undone.as_row(),
            "in_force": undone.in_force.as_row() if undone.in_force else None}


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
    calibrated: Calibrated = None,
) -> dict[str, Any]:
    """Each detector's accuracy on the same reviewed images: those every compared one
    labelled; each at its own threshold, or at the same calibrated probability."""
    return await judging.compare(reads, label=label, cameras=camera, since=since, until=until,
                                 detectors=detector, threshold=threshold,
                                 thresholds=thresholds or (), step=step,
                                 target_recall=target_recall, calibrated=calibrated)


@router.get("/accuracy/breakdown", response_model=AccuracyBreakdown)
async def accuracy_breakdown(
    reads: Reads, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: DetectorNames = None, threshold: Threshold = 90,
    thresholds: Thresholds = None, night: Night = None,
) -> dict[str, Any]:
    """Where and when each detector misses: by camera, camera-local hour, day or night,
    camera x hour and model version, side by side."""
    return await slicing.breakdown(reads, label=label, cameras=camera, since=since,
                                   until=until, detectors=detector, threshold=threshold,
                                   thresholds=thresholds or (), nights=night or ())


@router.get("/accuracy/costs", response_model=ThresholdCosts)
async def threshold_costs(
    reads: Reads, label: LabelQuery = "Person", camera: Cameras = None, since: Since = None,
    until: Until = None, detector: DetectorNames = None, threshold: Threshold = 90,
    thresholds: Thresholds = None, step: Step = 5, target_recall: CostTarget = 95,
) -> dict[str, Any]:
    """What a threshold costs per detector and camera: recall, precision and alarms a day,
    the threshold for the target recall and its alarms a day."""
    return await slicing.costs(reads, label=label, cameras=camera, since=since, until=until,
                               detectors=detector, threshold=threshold,
                               thresholds=thresholds or (), step=step,
                               target_recall=target_recall)


@router.get("/review-queue", response_model=ReviewQueue)
async def review_queue(
    reads: Reads, links: Links, query: QueryDigest, label: LabelQuery = "Person",
    camera: Cameras = None, since: Since = None, until: Until = None, limit: Limit = 50,
    cursor: Cursor = None,
    threshold: Threshold = 90, thresholds: Thresholds = None, mode: QueueMode = "priority",
    seed: Seed = 0,
) -> dict[str, Any]:
    """Images nobody judged for the label yet: where detectors disagree first, then those
    without it (misses hide there), then the least confident; or (mode=sample) a random
    sample of every image in scope."""
    return await judging.review_queue(reads, links, label=label, cameras=camera, since=since,
                                      until=until, limit=limit, cursor=cursor,
                                      threshold=threshold, thresholds=thresholds or (),
                                      query=query, mode=mode, seed=seed)


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
