"""The upload queue and its dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from labelgraph_provision.policies import allow_service, from_bucket
from labelgraph_provision.report import Outcome, Status

# The longest SQS allows: AWS ages a dead letter from its first enqueue on the source
# queue, so a shorter retention could drop it before anyone looks.
DLQ_RETENTION_SECONDS = 1_209_600

_JSON_ATTRIBUTES = frozenset({"Policy", "RedrivePolicy"})


def ensure_queue(
    sqs: Any, name: str, attributes_for: Callable[[str], dict[str, str]]
) -> tuple[Outcome, str]:
    """Create queue `name` if missing and converge its attributes; return its ARN.

    Attributes are computed from the queue's own ARN because a queue policy must name
    the queue it guards, and the ARN (account id included) exists only after creation.
    """
    url, created = _get_or_create(sqs, name)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    wanted = attributes_for(arn)
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(wanted)).get(
        "Attributes", {}
    )
    stale = {k: v for k, v in wanted.items() if not _same(k, current.get(k), v)}
    if stale:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=stale)
    status = Status.CREATED if created else Status.UPDATED if stale else Status.EXISTED
    return Outcome("queue", name, status), arn


def dlq_attributes(_arn: str) -> dict[str, str]:
    return {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}


def upload_queue_attributes(
    bucket: str, dlq_arn: str, max_receives: int, visibility_timeout: int,
    topic_arn: str | None = None,
) -> Callable[[str], dict[str, str]]:
    """An upload queue's attributes; its policy lets the bucket send, or with `topic_arn`
    (fan-out) the upload topic."""
    def attributes(arn: str) -> dict[str, str]:
        policy = (_allow_topic_to_send(arn, topic_arn) if topic_arn
                  else _allow_bucket_to_send(arn, bucket))
        return {
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}
            ),
            "Policy": json.dumps(policy),
        }

    return attributes


def _allow_bucket_to_send(queue_arn: str, bucket: str) -> dict[str, Any]:
    return allow_service("AllowS3ObjectCreatedNotifications", "s3", "sqs:SendMessage",
                         queue_arn, from_bucket(bucket, queue_arn))


def _allow_topic_to_send(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    return allow_service("AllowUploadTopic", "sns", "sqs:SendMessage", queue_arn,
                         {"ArnEquals": {"aws:SourceArn": topic_arn}})



def _get_or_create(sqs: Any, name: str) -> tuple[str, bool]:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"], False
    except sqs.exceptions.QueueDoesNotExist:
        return sqs.create_queue(QueueName=name)["QueueUrl"], True


def _same(name: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if name not in _JSON_ATTRIBUTES:
        return current == wanted
    # AWS may hand JSON back re-serialised, and maxReceiveCount as a string.
    return _normalised(json.loads(current)) == _normalised(json.loads(wanted))


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return str(value)
