"""Resource policies that let one AWS service (S3, SNS) deliver to a queue or a topic."""

from __future__ import annotations

from typing import Any


def allow_service(sid: str, service: str, action: str, resource: str,
                  condition: dict[str, Any]) -> dict[str, Any]:
    """A policy letting `service` (e.g. "s3") do `action` on `resource` under `condition`."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": f"{service}.amazonaws.com"},
            "Action": action,
            "Resource": resource,
            "Condition": condition,
        }],
    }


def from_bucket(bucket: str, resource_arn: str) -> dict[str, Any]:
    """The condition for a bucket's notifications. Bucket names are global: the account is
    pinned too, so a same-named bucket in another account can never deliver here."""
    return {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
            "StringEquals": {"aws:SourceAccount": resource_arn.split(":")[4]}}
