"""`python -m labelgraph_notifier` (or `label-notifier`): follow image-labels until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import boto3
from pydantic import ValidationError

from labelgraph_notifier.config import NotifierSettings
from labelgraph_notifier.consumer import follow, label_consumer
from labelgraph_notifier.images import PresignedImageLinks
from labelgraph_notifier.ledger import DeliveryLedger
from labelgraph_notifier.notify import Notifier
from labelgraph_notifier.sightings import WatchRule
from labelgraph_notifier.targets import (
    AppriseTarget,
    NotificationTarget,
    TargetUnavailable,
    WebhookTarget,
)

log = logging.getLogger("labelgraph_notifier")

EXIT_CONFIG, EXIT_TARGET_DOWN = 2, 3


def build_targets(settings: NotifierSettings) -> list[NotificationTarget]:
    targets: list[NotificationTarget] = []
    if settings.webhook_url:
        targets.append(WebhookTarget(settings.webhook_url))
    if settings.apprise_targets():
        targets.append(AppriseTarget(settings.apprise_targets()))
    if not targets:
        raise ValueError("set NOTIFIER_WEBHOOK_URL or NOTIFIER_APPRISE_URLS (or both)")
    return targets


async def run(settings: NotifierSettings, notifier: Notifier) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    consumer = label_consumer(settings)
    await consumer.start()
    log.info("following %s in group %s", settings.topic, settings.group)
    try:
        await follow(consumer, notifier, stop)
    finally:
        await consumer.stop()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = NotifierSettings()
        targets = build_targets(settings)
    except (ValidationError, ValueError) as error:
        log.error("configuration refused: %s", " ".join(str(error).split())[:500])
        return EXIT_CONFIG
    ledger = DeliveryLedger(settings.state_file)
    notifier = Notifier(WatchRule(settings.camera, settings.label, settings.threshold),
                        targets, ledger,
                        PresignedImageLinks(boto3.client("s3"), settings.link_seconds),
                        attempts=settings.send_attempts,
                        max_wait_seconds=settings.retry_max_seconds)
    try:
        asyncio.run(run(settings, notifier))
    except TargetUnavailable as error:
        log.error("stopping, nothing committed past the unsent notification: %s", error)
        return EXIT_TARGET_DOWN
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
