"""The one place that turns settings into live adapters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from labelgraph_contract import DetectorEntry, checkpoint_key_name, label_table_name
from labelgraph_labeler.adapters.dynamodb import DynamoDBLabelTable
from labelgraph_labeler.adapters.kafka import LabelPublisher
from labelgraph_labeler.adapters.rekognition import RekognitionDetector, RetryPolicy
from labelgraph_labeler.adapters.s3 import (
    S3CheckpointStore,
    S3ImageStore,
    S3ReconcileMark,
    S3ReconcileProgress,
)
from labelgraph_labeler.adapters.sqs import SqsUploadQueue
from labelgraph_labeler.config import (
    RECONCILE_MARK_KEY,
    RECONCILE_PROGRESS_KEY,
    LabelerSettings,
)
from labelgraph_labeler.domain import Detector, KeyLayout
from labelgraph_labeler.handlers import ConfiguredDetector, Labeler
from labelgraph_labeler.ports import EventPublisher
from labelgraph_labeler.reconcile import reconcile_at_start
from labelgraph_labeler.worker import WorkerHealth, WorkerPolicy, run_worker
from labelgraph_observability import OpsServer

log = logging.getLogger("labelgraph_labeler")

# The start's reconcile labels one image at a time beside the uploads: it may take long,
# but it never holds more than one image's share of the detectors and threads.
RECONCILE_AT_START_CONCURRENCY = 1


@dataclass(frozen=True)
class Wiring:
    """What a detector's factory may use: the settings and the shared boto3 session."""

    settings: LabelerSettings
    session: Any
    pooled: Config


DetectorFactory = Callable[[Wiring], Detector]


def _rekognition(wiring: Wiring) -> Detector:
    settings = wiring.settings
    return RekognitionDetector(
        wiring.session.client("rekognition", config=wiring.pooled.merge(
            Config(retries={"total_max_attempts": 1}))),
        max_labels=settings.max_labels,
        min_confidence=settings.min_confidence,
        retry=RetryPolicy(settings.rekognition_max_attempts, settings.retry_base_seconds,
                          settings.retry_max_seconds),
    )


# The local models import OpenCV and load their weights: only inside their factories, so
# a labeler without them never pays for either.
def _ssd_mobilenet(wiring: Wiring) -> Detector:
    from labelgraph_labeler.adapters.ssd_mobilenet import SsdMobileNetDetector
    settings = wiring.settings
    return SsdMobileNetDetector.load(max_labels=settings.max_labels,
                                     min_confidence=settings.min_confidence,
                                     workers=settings.concurrency)


def _hog(wiring: Wiring) -> Detector:
    from labelgraph_labeler.adapters.hog import HogPeopleDetector
    settings = wiring.settings
    return HogPeopleDetector.load(max_labels=settings.max_labels,
                                  min_confidence=settings.min_confidence,
                                  workers=settings.concurrency)


# Every kind LABELER_DETECTORS may name, and how to make one.
DETECTOR_FACTORIES: Mapping[str, DetectorFactory] = {
    "aws-rekognition": _rekognition,
    "ssd-mobilenet-v2-coco": _ssd_mobilenet,
    "opencv-hog": _hog,
}


class UnknownDetectorKind(ValueError):
    """LABELER_DETECTORS names a kind no factory makes: refused at start-up."""


def planned_detectors(settings: LabelerSettings,
                      factories: Mapping[str, DetectorFactory] = DETECTOR_FACTORIES,
                      ) -> list[tuple[DetectorEntry, DetectorFactory]]:
    """Each configured detector with its factory, nothing loaded yet."""
    unknown = [entry for entry in settings.detector_entries if entry.kind not in factories]
    if unknown:
        raise UnknownDetectorKind(
            f"LABELER_DETECTORS: unknown detector kind {unknown[0].kind[:80]!r}; the kinds "
            f"are {', '.join(sorted(factories))}")
    return [(entry, factories[entry.kind]) for entry in settings.detector_entries]


def build_publisher(settings: LabelerSettings) -> LabelPublisher:
    return LabelPublisher(settings, settings.label_topic, settings.publish_timeout_seconds,
                          settings.broker_check_seconds)


def build_labeler(settings: LabelerSettings,
                  factories: Mapping[str, DetectorFactory] = DETECTOR_FACTORIES,
                  publisher: EventPublisher | None = None) -> Labeler:
    """The labeler's adapters; its publisher not started (see connected_labeler)."""
    # No endpoint_url here: boto3 reads AWS_ENDPOINT_URL(_<SERVICE>) itself, so the same
    # code talks to AWS, LocalStack, moto or the Rekognition stub.
    session = boto3.session.Session(region_name=settings.aws_default_region)
    plan = planned_detectors(settings, factories)
    # One HTTP connection per call in hand (each image asks every detector), so the pool
    # never queues the workers.
    pooled = Config(max_pool_connections=settings.concurrency * len(plan) + 4,
                    retries={"mode": "standard"})
    s3 = session.client("s3", config=pooled)
    # The table adapter builds every request itself (tested against boto3's own
    # serializer), so botocore's parameter validation would only check it again on the
    # hot path; DynamoDB still refuses what is malformed.
    dynamodb = session.client("dynamodb", config=pooled.merge(Config(parameter_validation=False)))
    wiring = Wiring(settings, session, pooled)
    return Labeler(
        images=S3ImageStore(s3, max_pixels=settings.max_pixels),
        detectors=tuple(
            ConfiguredDetector(
                entry.name, factory(wiring),
                DynamoDBLabelTable(dynamodb, label_table_name(settings.label_table, entry.name)),
                S3CheckpointStore(s3, settings.image_bucket,
                                checkpoint_key_name(settings.checkpoint_key, entry.name)))
            for entry, factory in plan),
        publisher=publisher or build_publisher(settings),
        layout=KeyLayout.from_settings(settings.key_pattern, settings.camera_timezone),
        excluded_cameras=settings.excluded_camera_set,
    )


@contextlib.asynccontextmanager
async def connected_labeler(settings: LabelerSettings,
                            factories: Mapping[str, DetectorFactory] = DETECTOR_FACTORIES,
                            ) -> AsyncIterator[Labeler]:
    """The labeler with its publisher connected to the broker, and stopped on the way out."""
    publisher = build_publisher(settings)
    labeler = build_labeler(settings, factories, publisher)
    await publisher.start()
    try:
        yield labeler
    finally:
        await publisher.stop()


def build_reconcile_progress(settings: LabelerSettings, bucket: str) -> S3ReconcileProgress:
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return S3ReconcileProgress(session.client("s3"), bucket, RECONCILE_PROGRESS_KEY)


def build_reconcile_mark(settings: LabelerSettings) -> S3ReconcileMark:
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return S3ReconcileMark(session.client("s3"), settings.image_bucket, RECONCILE_MARK_KEY)


def build_queue(settings: LabelerSettings) -> SqsUploadQueue:
    session = boto3.session.Session(region_name=settings.aws_default_region)
    return SqsUploadQueue(session.client("sqs"), settings.image_queue_name,
                          settings.poll_wait_seconds)


def build_worker_policy(settings: LabelerSettings) -> WorkerPolicy:
    return WorkerPolicy(settings.concurrency, settings.broker_check_seconds,
                        settings.retry_base_seconds, settings.retry_max_seconds)


def size_thread_pool(settings: LabelerSettings) -> None:
    """Enough threads for every detector on every image in hand, the start's reconcile
    included, plus the poll (boto3 calls and local inference block a thread)."""
    loop = asyncio.get_running_loop()
    images = settings.concurrency + RECONCILE_AT_START_CONCURRENCY
    threads = images * len(settings.detector_entries) + 4
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads,
                                                 thread_name_prefix="labeler"))


async def serve(settings: LabelerSettings, stop: asyncio.Event,
                factories: Mapping[str, DetectorFactory] = DETECTOR_FACTORIES,
                connected: Callable[[Labeler], None] = lambda _: None) -> None:
    """`labeler run`: label uploads with the ops endpoints up until stop is set, then finish
    the images in hand. `connected` sees the labeler once its publisher is connected,
    before the first poll."""
    size_thread_pool(settings)
    health = WorkerHealth()
    ops = OpsServer(settings.ops_host, settings.ops_port, health.ready)
    await ops.start()
    try:
        queue = await asyncio.to_thread(build_queue, settings)
        async with connected_labeler(settings, factories) as labeler:
            connected(labeler)
            log.info("labelling uploads from queue %s with %s", settings.image_queue_name,
                     ", ".join(detector.name for detector in labeler.detectors),
                     extra={"ops_port": settings.ops_port, "concurrency": settings.concurrency})
            async with _reconciling_at_start(labeler, settings, stop):
                await run_worker(labeler, queue, stop, health, build_worker_policy(settings))
    finally:
        await ops.stop()
        log.info("stopped")


@contextlib.asynccontextmanager
async def _reconciling_at_start(labeler: Labeler, settings: LabelerSettings,
                                stop: asyncio.Event) -> AsyncIterator[None]:
    """One reconcile at start beside the worker (none at LABELER_RECONCILE_DAYS=0); on a
    stop it finishes the image in hand."""
    if not settings.reconcile_days:
        yield
        return
    task = asyncio.create_task(_reconcile_in_background(labeler, settings, stop))
    try:
        yield
    finally:
        if not stop.is_set():
            # The worker failed: no stop will come, and a half-done labelling is redone later.
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _reconcile_in_background(labeler: Labeler, settings: LabelerSettings,
                                   stop: asyncio.Event) -> None:
    try:
        mark = await asyncio.to_thread(build_reconcile_mark, settings)
        first_day, summary = await reconcile_at_start(
            labeler, settings.image_bucket, mark, days=settings.reconcile_days,
            max_days=settings.reconcile_max_days, concurrency=RECONCILE_AT_START_CONCURRENCY,
            stop=stop)
    except Exception:
        # The uploads go on; the next start (or `reconcile`) looks again.
        log.exception("reconcile at start failed (transient)")
        return
    log.info("reconcile at start since %s: %s", first_day, json.dumps(summary.report()))
