"""The SQS consumer loop: receive notifications, label their images, acknowledge."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from labelgraph_labeler import metrics
from labelgraph_labeler.adapters.sqs import Notification, UploadQueue
from labelgraph_labeler.handlers import Labeler, Outcome, label_image

log = logging.getLogger(__name__)

BACKLOG_INTERVAL_SECONDS = 15
RECEIVE_ERROR_PAUSE_SECONDS = 1


class WorkerHealth:
    """Whether the last poll of the queue worked: the labeler's readiness."""

    def __init__(self) -> None:
        self.problem: str | None = "the upload queue has not been polled yet"

    async def ready(self) -> str | None:
        return self.problem


async def run_worker(labeler: Labeler, queue: UploadQueue, stop: asyncio.Event,
                     concurrency: int, health: WorkerHealth) -> None:
    """Poll until stop is set, at most `concurrency` messages in hand; then finish them.

    A message is deleted only after all its images are handled.
    """
    in_flight: set[asyncio.Task[None]] = set()
    backlog = asyncio.create_task(_watch_backlog(queue, stop))
    while not stop.is_set():
        if len(in_flight) >= concurrency:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            continue
        notifications = await _receive(queue, concurrency - len(in_flight), stop, health)
        for notification in notifications:
            task = asyncio.create_task(_handle(labeler, queue, notification))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
    log.info("stopping: finishing %d messages in hand", len(in_flight))
    await asyncio.gather(backlog, *in_flight)


async def _receive(queue: UploadQueue, room: int, stop: asyncio.Event,
                   health: WorkerHealth) -> list[Notification]:
    """One long poll; if stop comes meanwhile, what it brings goes back to the queue."""
    polling = asyncio.create_task(asyncio.to_thread(queue.receive, room))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    try:
        notifications = await polling
    except Exception as error:
        health.problem = f"cannot poll the upload queue: {error}"
        log.warning("%s", health.problem)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RECEIVE_ERROR_PAUSE_SECONDS)
        return []
    health.problem = None
    if not stop.is_set():
        return notifications
    for notification in notifications:
        await asyncio.to_thread(queue.release, notification.receipt)
    return []


async def _handle(labeler: Labeler, queue: UploadQueue, notification: Notification) -> None:
    keys = ", ".join(upload.key for upload in notification.uploads) or "(no uploads)"
    try:
        results = [await label_image(labeler, upload) for upload in notification.uploads]
        failed = [result for result in results if result.outcome is Outcome.FAILED]
        if failed:
            # Refused for good: kept on the dead-letter queue with why, not redelivered.
            await asyncio.to_thread(queue.dead_letter, notification, failed[0].reason,
                                    "; ".join(result.detail for result in failed))
        else:
            await asyncio.to_thread(queue.acknowledge, notification.receipt)
    except Exception:
        # Left on the queue: SQS redelivers it after the visibility timeout, and after
        # too many receives moves it to the dead-letter queue.
        metrics.IMAGES_RETRIED.inc()
        log.exception("%s: handling failed; the message will be redelivered", keys,
                      extra={"object_key": keys})


async def _watch_backlog(queue: UploadQueue, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            metrics.SQS_BACKLOG.set(await asyncio.to_thread(queue.backlog))
        except Exception as error:
            log.warning("cannot read the upload queue's backlog: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), BACKLOG_INTERVAL_SECONDS)
