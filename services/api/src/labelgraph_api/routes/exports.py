"""Reviewed images out, as a training set."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from labelgraph_api.deps import Cameras, Detector, Images, Reads, Since, Until
from labelgraph_api.handlers import export
from labelgraph_contract.bounds import NAME_MAX_CHARS

router = APIRouter(tags=["export"])
ExportLabel = Annotated[str, Query(min_length=1, max_length=NAME_MAX_CHARS,
                                   description="Label the reviewers judged, in any case.")]
Format = Annotated[Literal["coco", "yolo"], Query(
    description="coco: images/ and annotations.json; yolo (Ultralytics): data.yaml, images/, "
                "labels/.")]


@router.get("/export", response_class=StreamingResponse, responses={200: {
    "content": {"application/zip": {}},
    "description": "A zip streamed as it is made; X-Export-Images says how many images it "
                   "plans (a progress bar's total), manifest.json at its end what went in."}})
async def export_training_set(
    reads: Reads, images: Images, format: Format = "coco", label: ExportLabel = "Person",
    camera: Cameras = None, since: Since = None, until: Until = None,
    detector: Detector = None,
) -> StreamingResponse:
    """The reviewed images of a scope as a training set: positives with the detectors' boxes,
    reviewed-empty images as negatives; unreviewed images are not exported."""
    plan = await export.plan_export(reads, label=label, cameras=camera, since=since,
                                    until=until, detector=detector)
    return StreamingResponse(
        export.zipped(export.members(plan, format, images)), media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="labelgraph-{format}.zip"',
                 "X-Export-Images": str(len(plan.items)),
                 "X-Export-Positives": str(plan.positives),
                 "X-Export-Negatives": str(plan.negatives),
                 "X-Export-Unboxed-Positives": str(plan.unboxed)})
