"""Provision everything the services expect, in dependency order, idempotently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from labelgraph_provision import dynamodb, kafka, s3, sns, sqs
from labelgraph_provision.aws import AwsClients
from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, ProvisionReport
from labelgraph_provision.settings import ProvisionSettings

log = logging.getLogger(__name__)

_UNREACHABLE = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
)


# What one run provisions: everything, or only one side when the other comes from
# infrastructure code (topics from Terraform on MSK, AWS resources from CloudFormation).
Part = Literal["aws", "kafka"]


def provision(settings: ProvisionSettings, aws: AwsClients | None = None,
              only: Part | None = None) -> ProvisionReport:
    """Create what is missing; report what was created and what was already there.

    Synchronous (it runs its own event loop for Kafka): from async code call it through
    asyncio.to_thread, or call provision_aws and kafka.ensure_topics.
    """
    aws_outcomes = provision_aws(settings, aws).outcomes if only != "kafka" else ()
    topics: list[Outcome] = []
    if only != "aws":
        with _reaching(f"Kafka at {settings.kafka.kafka_bootstrap_servers}"):
            topics = asyncio.run(kafka.ensure_topics(settings))
    for outcome in topics:
        # A topic unlike what was asked still works, but someone should know.
        log.log(logging.WARNING if outcome.differences else logging.INFO, "%s", outcome)
    return ProvisionReport(aws_outcomes + tuple(topics))


def provision_aws(settings: ProvisionSettings, aws: AwsClients | None = None) -> ProvisionReport:
    """The bucket, the upload queues (with the fan-out topic when configured), the bucket
    notification, a label table per detector and the verdict table."""
    clients = aws or AwsClients.create(settings.aws_region)
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        log.info("%s", outcome)
        outcomes.append(outcome)

    with _reaching("AWS"):
        bucket = settings.image_bucket
        record(s3.ensure_bucket(clients.s3, bucket, settings.aws_region))
        if settings.image_topic_name:
            topic, topic_arn = sns.ensure_topic(clients.sns, settings.image_topic_name, bucket)
            record(topic)
            for queue, dlq in settings.upload_queues:
                queue_arn = _ensure_upload_queue(clients, settings, queue, dlq, record,
                                                 topic_arn)
                record(sns.ensure_raw_subscription(clients.sns, topic_arn, queue_arn))
            # After the topic policy: AWS checks that S3 may publish before accepting it.
            record(s3.ensure_topic_notification(clients.s3, bucket, topic_arn))
        else:
            [(queue, dlq)] = settings.upload_queues
            queue_arn = _ensure_upload_queue(clients, settings, queue, dlq, record)
            # After the queue policy: AWS checks that S3 may send before accepting the rule.
            record(s3.ensure_queue_notification(clients.s3, bucket, queue_arn))
        for table in settings.label_tables:
            record(dynamodb.ensure_label_table(clients.dynamodb, table))
        record(dynamodb.ensure_verdict_table(clients.dynamodb, settings.verdict_table))
    return ProvisionReport(tuple(outcomes))


def _ensure_upload_queue(clients: AwsClients, settings: ProvisionSettings, name: str, dlq: str,
                         record: Callable[[Outcome], None], topic_arn: str | None = None) -> str:
    """An upload queue and its dead-letter queue; the queue's ARN."""
    dead, dlq_arn = sqs.ensure_queue(clients.sqs, dlq, sqs.dlq_attributes)
    record(dead)
    queue, queue_arn = sqs.ensure_queue(clients.sqs, name, sqs.upload_queue_attributes(
        settings.image_bucket, dlq_arn, settings.image_queue_max_receives,
        settings.image_queue_visibility_timeout, topic_arn))
    record(queue)
    return queue_arn


@contextmanager
def _reaching(backend: str) -> Iterator[None]:
    try:
        yield
    except _UNREACHABLE as exc:
        raise ProvisionError(f"{backend} is unreachable: {exc}") from exc
    except NoCredentialsError as exc:
        raise ProvisionError(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile"
        ) from exc
    except (ClientError, BotoCoreError, KafkaError) as exc:
        raise ProvisionError(f"{backend} refused: {exc}") from exc
