"""Fan-out of the bucket's notifications: one SNS topic, one raw subscription per queue, so
labelers with different detectors each get every upload on a queue of their own."""

from __future__ import annotations

import json
from typing import Any

from labelgraph_provision.policies import allow_service, from_bucket
from labelgraph_provision.report import Outcome, Status

# The queue gets S3's event itself, as from a direct notification, not SNS's envelope.
_RAW = {"RawMessageDelivery": "true"}


def ensure_topic(sns: Any, name: str, bucket: str) -> tuple[Outcome, str]:
    """The upload topic, which only this bucket (in this account) may publish to."""
    existing = _topic_arn(sns, name)
    # CreateTopic returns the existing topic's ARN, so it doubles as the lookup of the ARN.
    arn = existing or sns.create_topic(Name=name)["TopicArn"]
    wanted = json.dumps(_allow_bucket_to_publish(arn, bucket))
    current = sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy")
    stale = current is None or json.loads(current) != json.loads(wanted)
    if stale:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=wanted)
    status = Status.CREATED if existing is None else Status.UPDATED if stale else Status.EXISTED
    return Outcome("topic (SNS)", name, status), arn


def ensure_raw_subscription(sns: Any, topic_arn: str, queue_arn: str) -> Outcome:
    """Subscribe the queue with raw delivery, or put raw delivery back on its subscription."""
    name = f"{topic_arn.rsplit(':', 1)[-1]} -> {queue_arn.rsplit(':', 1)[-1]}"
    found = next((s["SubscriptionArn"] for s in _subscriptions(sns, topic_arn)
                  if s["Protocol"] == "sqs" and s["Endpoint"] == queue_arn), None)
    if found is None:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=_RAW)
        return Outcome("subscription", name, Status.CREATED)
    attributes = sns.get_subscription_attributes(SubscriptionArn=found)["Attributes"]
    if attributes.get("RawMessageDelivery") == "true":
        return Outcome("subscription", name, Status.EXISTED)
    sns.set_subscription_attributes(SubscriptionArn=found, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    return Outcome("subscription", name, Status.UPDATED)


def _topic_arn(sns: Any, name: str) -> str | None:
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    return None


def _subscriptions(sns: Any, topic_arn: str) -> list[dict[str, Any]]:
    return [subscription
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=topic_arn)
            for subscription in page.get("Subscriptions", [])]


def _allow_bucket_to_publish(topic_arn: str, bucket: str) -> dict[str, Any]:
    return allow_service("AllowS3ObjectCreatedNotifications", "s3", "sns:Publish", topic_arn,
                         from_bucket(bucket, topic_arn))
