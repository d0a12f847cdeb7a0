"""The SQS consumer loop: receive notifications, label their images, acknowledge."""

from __future__ import annotations

import asyncio
import logging

from labelgraph_labeler.adapters.sqs import Notification, UploadQueue
from labelgraph_labeler.handlers import Labeler, label_image

log = logging.getLogger(__name__)


async def run_worker(labeler: Labeler, queue: UploadQueue, stop: asyncio.Event,
                     concurrency: int) -> None:
    """Poll until stop is set; a message is deleted only after all its images are handled."""
    while not stop.is_set():
        notifications = await asyncio.to_thread(queue.receive, concurrency)
        await asyncio.gather(*(_handle(labeler, queue, n) for n in notifications))


async def _handle(labeler: Labeler, queue: UploadQueue, notification: Notification) -> None:
    try:
        for key in notification.keys:
            await label_image(labeler, key)
    except Exception:
        # Left on the queue: SQS redelivers it after the visibility timeout, and after
        # too many receives moves it to the dead-letter queue.
        log.exception("image handling failed; the message will be redelivered")
        return
    await asyncio.to_thread(queue.acknowledge, notification.receipt)
