"""The one place that turns settings into live adapters."""

from __future__ import annotations

import boto3

from labelgraph_labeler.adapters.dynamodb import LabelTable
from labelgraph_labeler.adapters.kafka import LabelPublisher
from labelgraph_labeler.adapters.rekognition import RekognitionDetector
from labelgraph_labeler.adapters.s3 import ImageStore
from labelgraph_labeler.adapters.sqs import UploadQueue
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.domain import KeyLayout
from labelgraph_labeler.handlers import Labeler


def build_labeler(settings: LabelerSettings) -> Labeler:
    # No endpoint_url here: boto3 reads AWS_ENDPOINT_URL(_<SERVICE>) itself, so the same
    # code talks to AWS, LocalStack, moto or the Rekognition stub.
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return Labeler(
        images=ImageStore(session.client("s3"), settings.image_bucket),
        detector=RekognitionDetector(
            session.client("rekognition"),
            max_labels=settings.max_labels,
            min_confidence=settings.min_confidence,
        ),
        table=LabelTable(session.resource("dynamodb"), settings.label_table),
        publisher=LabelPublisher(settings.kafka_bootstrap_servers, settings.label_topic),
        layout=KeyLayout.from_settings(settings.key_pattern, settings.camera_timezone),
        detector_name=settings.detector_name,
        excluded_cameras=settings.excluded_camera_set,
    )


def build_queue(settings: LabelerSettings) -> UploadQueue:
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return UploadQueue(session.client("sqs"), settings.image_queue_name,
                       settings.poll_wait_seconds)
