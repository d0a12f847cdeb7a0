"""Use case of training exports: plan the reviewed images of a scope, then stream them.

The plan comes from the graph (the verdicts and the detectors' boxes); the images from S3,
a chunk at a time into the archive or the folder, never whole in memory. COCO's annotation
file goes last, once every image's size was read off its first bytes.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from stream_zip import ZIP_64, stream_zip

from labelgraph_api.handlers.scope import label_named, window_of
from labelgraph_api.ports import GraphReads, ImageBytes
from labelgraph_api.training_set import (
    CocoDocument,
    ExportItem,
    ExportPlan,
    SizedImage,
    plan,
    sized,
    yolo_data_yaml,
    yolo_labels,
)

log = logging.getLogger("labelgraph_api")
Member = tuple[str, Iterable[bytes]]
Progress = Callable[[int, int], None]  # (images exported so far, images planned)


async def plan_export(reads: GraphReads, *, label: str, cameras: list[str] | None,
                      since: datetime | None, until: datetime | None,
                      detector: str | None) -> ExportPlan:
    """The reviewed images of the scope that go into a training export."""
    span = await window_of(reads, since, until, cameras=cameras, listing_dates=False)
    spelled, _ = await label_named(reads, label)
    rows = await reads.reviewed_for_export(span, label=spelled, cameras=cameras,
                                           detector=detector)
    return plan(spelled, rows)


def members(export: ExportPlan, form: str, images: ImageBytes,
            progress: Progress | None = None) -> Iterator[Member]:
    """The files of the export in `form` (coco or yolo), each image's bytes still to read."""
    skipped: list[str] = []
    fetched = _fetched(export, images, skipped, progress)
    if form == "coco":
        document = CocoDocument(export.label)
        for item, image in fetched:
            document.add(item, f"{item.stem}{image.extension}", image)
            yield f"images/{item.stem}{image.extension}", image.chunks
        yield "annotations.json", [document.text().encode()]
    else:
        yield "data.yaml", [yolo_data_yaml(export.label).encode()]
        for item, image in fetched:
            yield f"images/{item.stem}{image.extension}", image.chunks
            yield f"labels/{item.stem}.txt", [yolo_labels(item).encode()]
    yield "manifest.json", [_manifest(export, form, skipped).encode()]


def _fetched(export: ExportPlan, images: ImageBytes, skipped: list[str],
             progress: Progress | None) -> Iterator[tuple[ExportItem, SizedImage]]:
    """Each planned image with its size and bytes; one gone from S3, or no image, is skipped."""
    for done, item in enumerate(export.items, start=1):
        chunks = images.chunks(item.bucket, item.object_key)
        image = None if chunks is None else sized(chunks)
        if image is None:
            log.warning("export skips %r: not in S3, or no image", item.object_key[:200])
            skipped.append(item.object_key)
        else:
            yield item, image
        if progress is not None:
            progress(done, len(export.items))


def _manifest(export: ExportPlan, form: str, skipped: list[str]) -> str:
    return json.dumps({
        "label": export.label, "format": form, "planned": len(export.items),
        "exported": len(export.items) - len(skipped),
        "positives": sum(item.present for item in export.items
                         if item.object_key not in skipped),
        "negatives": sum(not item.present for item in export.items
                         if item.object_key not in skipped),
        "positives_without_boxes_left_out": export.unboxed, "skipped": skipped}, indent=1)


def zipped(files: Iterable[Member]) -> Iterable[bytes]:
    """The files as one zip archive, produced as it is read."""
    now = datetime.now(UTC)
    # Level 1: images are compressed already, the CPU is better spent streaming.
    return stream_zip(((name, now, 0o644, ZIP_64, chunks) for name, chunks in files),
                      get_compressobj=lambda: zlib.compressobj(wbits=-zlib.MAX_WBITS, level=1))


def write_folder(files: Iterable[Member], root: Path) -> None:
    """The files into a folder (names are the export's own, never an object key)."""
    for name, chunks in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            for chunk in chunks:
                file.write(chunk)
