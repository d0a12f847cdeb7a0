"""Rekognition DetectLabels, through boto3: the same call on AWS, LocalStack or the stub."""

from __future__ import annotations

from typing import Any

from labelgraph_contract import BoundingBox, DetectedLabel, LabelInstance
from labelgraph_labeler.domain import Detection


class RekognitionDetector:
    """Labels an S3 object with DetectLabels."""

    def __init__(self, client: Any, *, max_labels: int, min_confidence: float) -> None:
        self._client = client
        self._max_labels = max_labels
        self._min_confidence = min_confidence

    def detect(self, bucket: str, key: str) -> Detection:
        response = self._client.detect_labels(
            Image={"S3Object": {"Bucket": bucket, "Name": key}},
            MaxLabels=self._max_labels,
            MinConfidence=self._min_confidence,
        )
        return Detection(
            labels=[_label(item) for item in response.get("Labels", [])],
            model_version=response.get("LabelModelVersion", "unknown"),
        )


def _label(item: dict[str, Any]) -> DetectedLabel:
    return DetectedLabel(
        name=item["Name"],
        confidence=item["Confidence"],
        parents=[parent["Name"] for parent in item.get("Parents", [])],
        instances=[
            LabelInstance(
                bounding_box=BoundingBox(
                    width=box["Width"], height=box["Height"], left=box["Left"], top=box["Top"]
                ),
                confidence=instance["Confidence"],
            )
            for instance in item.get("Instances", [])
            for box in [instance["BoundingBox"]]
        ],
    )
