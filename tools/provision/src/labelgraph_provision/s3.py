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
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    queues = config.get("QueueConfigurations", [])
    outcome_name = f"{bucket} -> {queue_arn.rsplit(':', 1)[-1]}"
    if any(q["QueueArn"] == queue_arn and OBJECT_CREATED in q["Events"] for q in queues):
        return Outcome("bucket notification", outcome_name, Status.EXISTED)
    # put_bucket_notification_configuration replaces everything: merge, never overwrite.
    config["QueueConfigurations"] = [q for q in queues if q.get("Id") != NOTIFICATION_ID] + [
        {"Id": NOTIFICATION_ID, "QueueArn": queue_arn, "Events": [OBJECT_CREATED]}
    ]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    replaced = any(q.get("Id") == NOTIFICATION_ID for q in queues)
    return Outcome(
        "bucket notification", outcome_name, Status.UPDATED if replaced else Status.CREATED
    )


def _location(region: str) -> dict[str, Any]:
    # us-east-1 is the one region S3 rejects as an explicit LocationConstraint.
    if region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}
