"""The image bucket and its ObjectCreated notification to the upload queue."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, Status

NOTIFICATION_ID = "labelgraph-image-uploads"
OBJECT_CREATED = "s3:ObjectCreated:*"


def ensure_bucket(s3: Any, name: str, region: str) -> Outcome:
    try:
        s3.head_bucket(Bucket=name)
        return Outcome("bucket", name, Status.EXISTED)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("403", "AccessDenied"):
            raise ProvisionError(
                f"bucket {name} exists but is not ours (access denied): choose another IMAGE_BUCKET"
            ) from exc
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    try:
        s3.create_bucket(Bucket=name, **_location(region))
    except s3.exceptions.BucketAlreadyOwnedByYou:
        # Another provisioner won the race: the bucket is ours either way.
        return Outcome("bucket", name, Status.EXISTED)
    return Outcome("bucket", name, Status.CREATED)


def ensure_queue_notification(s3: Any, bucket: str, queue_arn: str) -> Outcome:
    """Send the bucket's ObjectCreated events to `queue_arn`, keeping other rules."""
    return _ensure_notification(s3, bucket, "QueueConfigurations", "QueueArn", queue_arn)


def ensure_topic_notification(s3: Any, bucket: str, topic_arn: str) -> Outcome:
    """Send the bucket's ObjectCreated events to the fan-out topic, keeping other rules."""
    return _ensure_notification(s3, bucket, "TopicConfigurations", "TopicArn", topic_arn)


# The two ways the bucket can announce uploads; ours is only ever one of them.
_TARGETS = {"QueueConfigurations": "QueueArn", "TopicConfigurations": "TopicArn"}


def _ensure_notification(s3: Any, bucket: str, section: str, field: str, arn: str) -> Outcome:
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    outcome_name = f"{bucket} -> {arn.rsplit(':', 1)[-1]}"
    other = next(name for name in _TARGETS if name != section)
    ours_elsewhere = [rule for rule in config.get(other, []) if rule.get("Id") == NOTIFICATION_ID]
    if not ours_elsewhere and any(rule[field] == arn and OBJECT_CREATED in rule["Events"]
                                  for rule in config.get(section, [])):
        return Outcome("bucket notification", outcome_name, Status.EXISTED)
    # put_bucket_notification_configuration replaces everything: merge, never overwrite.
    # Our rule of the other kind goes: switching between a queue and the fan-out topic
    # must not announce every upload twice.
    rules = config.get(section, [])
    replaced = bool(ours_elsewhere) or any(rule.get("Id") == NOTIFICATION_ID for rule in rules)
    config[section] = [rule for rule in rules if rule.get("Id") != NOTIFICATION_ID] + [
        {"Id": NOTIFICATION_ID, field: arn, "Events": [OBJECT_CREATED]}]
    if ours_elsewhere:
        config[other] = [rule for rule in config[other] if rule.get("Id") != NOTIFICATION_ID]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    return Outcome(
        "bucket notification", outcome_name, Status.UPDATED if replaced else Status.CREATED
    )


def _location(region: str) -> dict[str, Any]:
    # us-east-1 is the one region S3 rejects as an explicit LocationConstraint.
    if region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}
