"""Reviewed images as a training set: which go in, with which boxes, in COCO and YOLO.

Plain logic, no I/O. Only reviewed images go in: those a reviewer said show the label
(positives, with the boxes of the detector most confident of it there) and those a reviewer
said do not (negatives, with no box: in COCO an image without annotations, in YOLO an
empty label file). A positive no detector located is left out and counted: without its box
it would teach that the label is background. Unreviewed images are never exported.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from PIL import Image

from labelgraph_api.domain import stored_boxes

# Image sizes are read off the first bytes of each image: a JPEG's size comes after its
# EXIF block, at most 64 KiB; past this much, the object is no image this export takes.
HEAD_MAX_BYTES = 256 * 1024
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "GIF": ".gif",
              "TIFF": ".tif"}
CATEGORY_ID = 1
FORMATS = ("coco", "yolo")


@dataclass(frozen=True)
class ExportItem:
    """One reviewed image planned for the export (boxes as ratios of the image)."""

    object_key: str
    bucket: str | None
    camera: str
    present: bool
    reviewer: str
    reviewed_at: str
    stem: str  # its file name in the export without extension: never the hostile key
    detector: str | None = None
    boxes: tuple[dict[str, float], ...] = ()


@dataclass(frozen=True)
class ExportPlan:
    """The reviewed images of a scope that go in, and how many positives had no box."""

    label: str
    items: tuple[ExportItem, ...]
    unboxed: int

    @property
    def positives(self) -> int:
        return sum(item.present for item in self.items)

    @property
    def negatives(self) -> int:
        return len(self.items) - self.positives


def plan(label: str, rows: Iterable[dict[str, Any]]) -> ExportPlan:
    """The export of the graph's reviewed rows (object key, bucket, camera, the verdict and
    each detector's labels with boxes), in object-key order."""
    items: list[ExportItem] = []
    unboxed = 0
    for row in rows:
        detector, boxes = _best_boxes(row["labels"]) if row["present"] else (None, ())
        if row["present"] and not boxes:
            unboxed += 1
            continue
        items.append(ExportItem(
            object_key=row["object_key"], bucket=row["bucket"], camera=row["camera"],
            present=row["present"], reviewer=row["reviewer"], reviewed_at=row["reviewed_at"],
            stem=f"{len(items) + 1:06d}-{_digest(row['object_key'])}", detector=detector,
            boxes=boxes))
    return ExportPlan(label, tuple(items), unboxed)


def _best_boxes(labels: Sequence[dict[str, Any]]) -> tuple[str | None, tuple[dict[str, float],
                                                                            ...]]:
    """The boxes of the detector most confident of the label among those that located it:
    one detector's boxes, so no person is annotated twice."""
    located = [(label["confidence"], label["detector"], stored_boxes(label["boxes"]))
               for label in labels if label["detector"] is not None]
    located = [entry for entry in located if entry[2]]
    if not located:
        return None, ()
    _, detector, boxes = max(located, key=lambda entry: (entry[0] or 0, entry[1]))
    return detector, tuple(boxes)


def _digest(object_key: str) -> str:
    return hashlib.sha256(object_key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SizedImage:
    """An image's pixel size, file extension and every byte of it, still to be read."""

    width: int
    height: int
    extension: str
    chunks: Iterator[bytes]


def sized(chunks: Iterator[bytes]) -> SizedImage | None:
    """The image whose bytes these are, its size read off its first bytes (the rest is not
    read yet); None when they are no image Pillow knows within HEAD_MAX_BYTES."""
    head = b""
    for chunk in chunks:
        head += chunk
        found = _size(head)
        if found is not None:
            width, height, kind = found
            return SizedImage(width, height, EXTENSIONS[kind], chain([head], chunks))
        if len(head) >= HEAD_MAX_BYTES:
            return None
    return None


def _size(head: bytes) -> tuple[int, int, str] | None:
    try:
        with Image.open(io.BytesIO(head)) as image:
            if image.format not in EXTENSIONS:
                return None
            return image.width, image.height, image.format
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # not (yet) an image: more bytes may tell


@dataclass
class CocoDocument:
    """The COCO annotation file of an export, built image by image (as each is streamed)."""

    label: str
    images: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: ExportItem, file_name: str, image: SizedImage) -> None:
        image_id = len(self.images) + 1
        # Beyond COCO's fields: where the image came from and the verdict that put it here.
        self.images.append({
            "id": image_id, "file_name": file_name, "width": image.width,
            "height": image.height, "object_key": item.object_key, "camera": item.camera,
            "verdict": "present" if item.present else "absent", "reviewer": item.reviewer,
            "reviewed_at": item.reviewed_at})
        for box in item.boxes:
            pixels = [round(box["left"] * image.width, 2), round(box["top"] * image.height, 2),
                      round(box["width"] * image.width, 2),
                      round(box["height"] * image.height, 2)]
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id,
                "category_id": CATEGORY_ID, "bbox": pixels,
                "area": round(pixels[2] * pixels[3], 2), "iscrowd": 0,
                "detector": item.detector, "confidence": box["confidence"]})

    def text(self) -> str:
        return json.dumps({
            "info": {"description": f"Reviewed images of {self.label} exported by labelgraph: "
                                    "images without annotations were judged free of it"},
            "licenses": [], "images": self.images, "annotations": self.annotations,
            "categories": [{"id": CATEGORY_ID, "name": self.label, "supercategory": "none"}]})


def yolo_labels(item: ExportItem) -> str:
    """The YOLO label file of an image: one `class cx cy w h` line a box (ratios of the
    image); empty for a negative."""
    return "".join(
        f"0 {box['left'] + box['width'] / 2:.6f} {box['top'] + box['height'] / 2:.6f} "
        f"{box['width']:.6f} {box['height']:.6f}\n" for box in item.boxes)


def yolo_data_yaml(label: str) -> str:
    """Ultralytics' dataset file; the name as a JSON string, which YAML reads as the same
    double-quoted scalar (a label name is outside data: it never writes YAML of its own)."""
    return ("# Reviewed images exported by labelgraph: an image with an empty label file was\n"
            "# judged free of the label (a negative); unreviewed images are not here.\n"
            "# Every image is under train and val: split them as your training needs.\n"
            f"path: .\ntrain: images\nval: images\nnames:\n  0: {json.dumps(label)}\n")
