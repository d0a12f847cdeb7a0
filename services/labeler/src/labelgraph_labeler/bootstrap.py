"""The one place that turns settings into live adapters."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

from labelgraph_labeler.adapters.dynamodb import LabelTable
from labelgraph_labeler.adapters.kafka import LabelPublisher
from labelgraph_labeler.adapters.rekognition import RekognitionDetector, RetryPolicy
from labelgraph_labeler.adapters.s3 import CheckpointStore, ImageStore
from labelgraph_labeler.adapters.sqs import UploadQueue
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.domain import KeyLayout
from labelgraph_labeler.handlers import Labeler
from labelgraph_labeler.worker import WorkerPolicy


def build_labeler(settings: LabelerSettings) -> Labeler:
    # No endpoint_url here: boto3 reads AWS_ENDPOINT_URL(_<SERVICE>) itself, so the same
    # code talks to AWS, LocalStack, moto or the Rekognition stub.
    session = boto3.session.Session(region_name=settings.aws_default_region)
    # One HTTP connection per image in hand, so the pool never queues the workers.
    pooled = Config(max_pool_connections=settings.concurrency + 4,
                    retries={"mode": "standard"})
    s3 = session.client("s3", config=pooled)
    return Labeler(
        images=ImageStore(s3),
        detector=RekognitionDetector(
            session.client("rekognition",
                           config=pooled.merge(Config(retries={"total_max_attempts": 1}))),
            max_labels=settings.max_labels,
            min_confidence=settings.min_confidence,
            retry=RetryPolicy(settings.rekognition_max_attempts, settings.retry_base_seconds,
                              settings.retry_max_seconds),
        ),
        # The table adapter builds every request itself (tested against boto3's own
        # serializer), so botocore's parameter validation would only check it again on the
        # hot path; DynamoDB still refuses what is malformed.
        table=LabelTable(session.client("dynamodb", config=pooled.merge(
            Config(parameter_validation=False))), settings.label_table),
        publisher=LabelPublisher(settings.kafka_bootstrap_servers, settings.label_topic,
                                 settings.publish_timeout_seconds,
                                 settings.broker_check_seconds),
        checkpoints=CheckpointStore(s3, settings.image_bucket, settings.checkpoint_key),
        layout=KeyLayout.from_settings(settings.key_pattern, settings.camera_timezone),
        detector_name=settings.detector_name,
        excluded_cameras=settings.excluded_camera_set,
    )


def build_queue(settings: LabelerSettings) -> UploadQueue:
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return UploadQueue(session.client("sqs"), settings.image_queue_name,
                       settings.poll_wait_seconds)


def build_worker_policy(settings: LabelerSettings) -> WorkerPolicy:
    return WorkerPolicy(settings.concurrency, settings.broker_check_seconds,
                        settings.retry_base_seconds, settings.retry_max_seconds)


def size_thread_pool(concurrency: int) -> None:
    """Enough threads for every image in hand plus the poll (boto3 calls block a thread)."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 4,
                                                 thread_name_prefix="labeler"))
