"""The labeler's Prometheus metrics, served on the ops port's /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

IMAGES_LABELED = Counter("labeler_images_labeled_total", "Images labelled, recorded and published.")
IMAGES_FAILED = Counter("labeler_images_failed_total",
                        "Images recorded as failed, never retried, by reason.", ["reason"])
IMAGES_EXCLUDED = Counter("labeler_images_excluded_total",
                          "Images of excluded cameras, acknowledged unlabelled.")
IMAGES_RETRIED = Counter("labeler_images_retried_total",
                         "Images left on the queue after a transient error, to be redelivered.")
REKOGNITION_SECONDS = Histogram("labeler_rekognition_seconds",
                                "DetectLabels latency, retries included.")
PUBLISH_SECONDS = Histogram("labeler_publish_seconds", "Latency of publishing one event.")
SQS_BACKLOG = Gauge("labeler_sqs_backlog_messages",
                    "Messages waiting on the upload queue (SQS's approximate count).")
