"""The labeler's Prometheus metrics, served on the ops port's /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

IMAGES_LABELED = Counter("labeler_images_labeled_total",
                         "Images labelled, recorded and published, by detector.", ["detector"])
# A failure of the message itself (bad_notification, retries_exhausted) has no detector:
# its detector label is empty.
IMAGES_FAILED = Counter("labeler_images_failed_total",
                        "Images recorded as failed, never retried, by detector and reason.",
                        ["detector", "reason"])
LABELS_TRIMMED = Counter("labeler_labels_trimmed_total",
                         "Least confident labels left out of an event (and its rows) to fit "
                         "the contract's largest event, by detector.", ["detector"])
IMAGES_EXCLUDED = Counter("labeler_images_excluded_total",
                          "Images of excluded cameras, acknowledged unlabelled.")
IMAGES_RETRIED = Counter("labeler_images_retried_total",
                         "Images left on the queue after a transient error, to be redelivered.")
DETECTION_SECONDS = Histogram("labeler_detection_seconds",
                              "Latency of one detector on one image (a Rekognition call with "
                              "its retries, or a local model's inference), by detector.",
                              ["detector"])
PUBLISH_SECONDS = Histogram("labeler_publish_seconds", "Latency of publishing one event.")
SQS_BACKLOG = Gauge("labeler_sqs_backlog_messages",
                    "Messages waiting on the upload queue (SQS's approximate count).")
