"""Rekognition DetectLabels, through boto3: the same call on AWS, LocalStack or the stub."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from pydantic import ValidationError

from labelgraph_contract import BoundingBox, DetectedLabel, LabelInstance
from labelgraph_labeler.domain import (
    ContractBreachError,
    Detection,
    ImageRejected,
    ImageSource,
    LabelLimits,
    backoff_delay,
)

log = logging.getLogger(__name__)

# Answers that asking again will not change, and the failure reason each is recorded as.
PERMANENT = {
    "InvalidImageFormatException": "not_image",
    "ImageTooLargeException": "too_large",
    "InvalidS3ObjectException": "unreadable",
    "InvalidParameterException": "rejected",
    "AccessDeniedException": "forbidden",
}

# Answers that may change within seconds: asked again here, with backoff. Anything else
# (expired credentials, say) is left to SQS redelivery, minutes later, at once.
THROTTLED = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException",
                       "LimitExceededException"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to ask again after throttling or a transient error."""

    max_attempts: int
    base_seconds: float
    max_seconds: float


class RekognitionDetector:
    """Labels an S3 object with DetectLabels, retrying what may succeed on another try."""

    kind = "aws-rekognition"

    def __init__(self, client: Any, *, max_labels: int, min_confidence: float,
                 retry: RetryPolicy) -> None:
        # The client must not retry itself (total_max_attempts=1): this class owns retries.
        self._client = client
        self._limits = LabelLimits(max_labels, min_confidence)
        self._retry = retry

    @property
    def parameters(self) -> dict[str, str]:
        return self._limits.parameters()

    def detect(self, image: ImageSource) -> Detection:
        bucket, key = image.bucket, image.key
        attempt = 0
        while True:
            try:
                return self._detect_once(bucket, key)
            except (ClientError, ConnectionError, HTTPClientError) as error:
                _raise_unless_worth_asking_again(error)
                failure = error
            attempt += 1
            if attempt == self._retry.max_attempts:
                raise failure
            # Full jitter spreads the retries of many workers throttled at the same moment.
            delay = backoff_delay(attempt - 1, self._retry.base_seconds,
                                  self._retry.max_seconds, random.random())
            log.info("%s: DetectLabels failed (%s), retry %d in %.2fs", key, failure, attempt,
                     delay, extra={"object_key": key})
            time.sleep(delay)

    def _detect_once(self, bucket: str, key: str) -> Detection:
        response = self._client.detect_labels(
            Image={"S3Object": {"Bucket": bucket, "Name": key}},
            MaxLabels=self._limits.max_labels,
            MinConfidence=self._limits.min_confidence,
        )
        try:
            labels = [_label(item) for item in response.get("Labels", [])]
        except ValidationError as error:
            raise ContractBreachError.of(error) from None
        return Detection(labels, response.get("LabelModelVersion", "unknown"))


def _raise_unless_worth_asking_again(error: Exception) -> None:
    """Permanent answers as rejections, others not worth a retry now as they are."""
    if not isinstance(error, ClientError):
        return  # no connection: the next try may well get one
    code = error.response.get("Error", {}).get("Code", "")
    if code in PERMANENT:
        raise ImageRejected(f"DetectLabels: {code}", PERMANENT[code]) from None
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code not in THROTTLED and status < 500:
        raise error


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
