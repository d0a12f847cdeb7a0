"""OpenCV's built-in HOG people detector: the "how would OpenCV do" answer.

Dalal and Triggs' histogram-of-gradients features with the linear SVM OpenCV ships
(cv2.HOGDescriptor.getDefaultPeopleDetector), trained on upright, whole pedestrians seen
in a 64x128 window. It finds only Person, and misses close-ups and people cut by the frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from labelgraph_labeler.adapters.coco import PERSON
from labelgraph_labeler.adapters.decoding import MAX_SIDE, decode_image
from labelgraph_labeler.adapters.local_model import Found, ModelPool, rekognition_labels
from labelgraph_labeler.domain import Detection, ImageSource, LabelLimits

MODEL_VERSION = f"opencv-{cv2.__version__}-hog-default-people"
WINDOW = (64, 128)  # width, height of the SVM's window: the smallest person it can see
# For 640x480 to 1280x720 stills: an 8-pixel stride (one HOG cell) and 5% steps between
# scales find the vtest walkers (about 60-200 px tall, after padding) in ~175 ms of one core
# at 768x576; a 4-pixel stride costs about 4x for little more.
WIN_STRIDE = (8, 8)
PADDING = (8, 8)
SCALE = 1.05
GROUP_THRESHOLD = 2  # OpenCV's default: a find needs 3 overlapping windows
# The SVM's own boundary, OpenCV's default: with a lower one the weak windows merge into
# groups and change the finds above the boundary too (measured on the empty streets).
HIT_THRESHOLD = 0.0


def margin_confidence(margin: float) -> float:
    """The SVM's margin (0 to ~5 here, not a probability) as 0-100: 100 (1 - e^-margin).

    Monotonic, so the accuracy curves rank the finds exactly as the SVM does: a margin of
    0.5 is 39, 1 is 63, 2 is 86, 3 is 95.
    """
    return 100 * (1 - math.exp(-max(0.0, margin)))


class HogPeopleDetector:
    """Finds people; a Person's confidence is its best window group's SVM margin, squashed."""

    kind = "opencv-hog"

    def __init__(self, descriptors: ModelPool[cv2.HOGDescriptor], *, max_labels: int,
                 min_confidence: float) -> None:
        self._descriptors = descriptors
        self._limits = LabelLimits(max_labels, min_confidence)

    @classmethod
    def load(cls, *, max_labels: int, min_confidence: float,
             workers: int) -> HogPeopleDetector:
        # Pooled like the SSD's nets: HOG holds its own buffers, and the pool keeps CPU-bound
        # calls to one a core.
        return cls(ModelPool(_people_descriptor, workers), max_labels=max_labels,
                   min_confidence=min_confidence)

    @property
    def parameters(self) -> dict[str, str]:
        return {**self._limits.parameters(),
                "hit_threshold": f"{HIT_THRESHOLD:g}",
                "win_stride": f"{WIN_STRIDE[0]}x{WIN_STRIDE[1]}",
                "padding": f"{PADDING[0]}x{PADDING[1]}",
                "scale": f"{SCALE:g}",
                "group_threshold": str(GROUP_THRESHOLD),
                "max_side": str(MAX_SIDE)}

    def detect(self, image: ImageSource) -> Detection:
        pixels = decode_image(image.content)
        height, width = pixels.shape[:2]
        if width < WINDOW[0] or height < WINDOW[1]:
            # No person fits the window; and OpenCV 4.14 aborts the whole process (a double
            # free) or fails an assertion on images smaller than it.
            return Detection([], MODEL_VERSION)
        with self._descriptors.instance() as hog:
            boxes, margins = hog.detectMultiScale(
                pixels, hitThreshold=HIT_THRESHOLD, winStride=WIN_STRIDE, padding=PADDING,
                scale=SCALE, groupThreshold=GROUP_THRESHOLD)
        finds = [Found(PERSON, margin_confidence(float(margin)), x / width, y / height,
                       (x + w) / width, (y + h) / height)
                 for (x, y, w, h), margin in zip(boxes, np.ravel(margins), strict=True)]
        labels = rekognition_labels(finds, max_labels=self._limits.max_labels,
                                    min_confidence=self._limits.min_confidence)
        return Detection(labels, MODEL_VERSION)


def _people_descriptor() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    return hog
