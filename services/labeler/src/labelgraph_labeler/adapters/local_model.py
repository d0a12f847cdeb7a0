"""What the local detectors share: a pool of model instances, and their raw finds turned
into labels shaped as Rekognition's."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import cv2

from labelgraph_contract import BoundingBox, DetectedLabel, LabelInstance
from labelgraph_contract.events import MAX_INSTANCES
from labelgraph_labeler.adapters.coco import LabelName

Model = TypeVar("Model")


class ModelPool(Generic[Model]):
    """A few instances of one model, each used by one thread at a time.

    cv2.dnn.Net is not safe to share between threads (forward() keeps its blobs in the net).
    The pool holds as many instances as the labeler may hand images at once, but never more
    than there are cores: inference is CPU-bound, so a further instance would only cost
    memory (~200 MB an SSD net) while its thread waits for a core anyway.
    """

    def __init__(self, make: Callable[[], Model], workers: int) -> None:
        self.size = max(1, min(workers, os.cpu_count() or 1))
        self._idle: queue.Queue[Model] = queue.Queue()
        for _ in range(self.size):
            self._idle.put(make())
        if self.size > 1:
            # The pool is the parallelism: OpenCV's own threads on top of it would put
            # size x cores threads on the cores (measured: 18% more CPU an image).
            # Process-wide; every local detector sets the same.
            cv2.setNumThreads(1)

    @contextmanager
    def instance(self) -> Iterator[Model]:
        model = self._idle.get()
        try:
            yield model
        finally:
            self._idle.put(model)


@dataclass(frozen=True)
class Found:
    """One raw find: what, how sure (0-100), where (edges as ratios of the image, unclipped)."""

    label: LabelName
    confidence: float
    left: float
    top: float
    right: float
    bottom: float


def rekognition_labels(finds: Iterable[Found], *, max_labels: int,
                       min_confidence: float) -> list[DetectedLabel]:
    """One label per name, as confident as its best instance, most confident first,
    MinConfidence applied to each instance and MaxLabels to the labels."""
    by_name: dict[LabelName, list[LabelInstance]] = {}
    for find in finds:
        box = _clipped_box(find)
        if find.confidence >= min_confidence and box is not None:
            by_name.setdefault(find.label, []).append(
                LabelInstance(bounding_box=box, confidence=round(find.confidence, 3)))
    labels = [_label(name, instances) for name, instances in by_name.items()]
    labels.sort(key=lambda label: (-label.confidence, label.name))
    return labels[:max_labels]


def _label(name: LabelName, instances: list[LabelInstance]) -> DetectedLabel:
    best = sorted(instances, key=lambda instance: -instance.confidence)[:MAX_INSTANCES]
    return DetectedLabel(name=name.name, confidence=best[0].confidence,
                         parents=list(name.parents), instances=best)


def _clipped_box(find: Found) -> BoundingBox | None:
    """The box inside the image, in Rekognition's form; None if nothing of it is inside."""
    left, top = _ratio(find.left), _ratio(find.top)
    width, height = _ratio(find.right) - left, _ratio(find.bottom) - top
    if width <= 0 or height <= 0:
        return None
    return BoundingBox(width=round(width, 6), height=round(height, 6), left=round(left, 6),
                       top=round(top, 6))


def _ratio(value: float) -> float:
    return min(1.0, max(0.0, float(value)))
