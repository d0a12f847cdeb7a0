"""The SQS consumer loop: receive notifications, label their images, acknowledge."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass

from labelgraph_labeler import metrics
from labelgraph_labeler.adapters.dynamodb import TableMissing
from labelgraph_labeler.adapters.kafka import PublishFailed
from labelgraph_labeler.adapters.sqs import Notification, QueueMissing
from labelgraph_labeler.domain import backoff_delay
from labelgraph_labeler.handlers import Labeler, Outcome, label_image
from labelgraph_labeler.ports import UploadQueue

log = logging.getLogger(__name__)

BACKLOG_INTERVAL_SECONDS = 15
LABELLING_NEEDS = ("broker", "tables")
# Transient failures whose message says all (an outage readiness reports): one line, no
# traceback per message.
EXPLAINED = (PublishFailed, TableMissing)


@dataclass(frozen=True)
class WorkerPolicy:
    """How many images at once, how often to check the broker, how to back off."""

    concurrency: int
    broker_check_seconds: float
    backoff_base_seconds: float
    backoff_max_seconds: float

    def pause(self, failures: int) -> float:
        """The wait after `failures` failed tries in a row: doubling, capped, full jitter."""
        return backoff_delay(failures - 1, self.backoff_base_seconds, self.backoff_max_seconds,
                             random.random())


class WorkerHealth:
    """The labeler's readiness, in one place: the upload queue polls, the broker answers,
    every detector's label table exists.

    Each part reports after every try; only a change of state is logged, so an outage
    gives two lines, not one per try. The broker and the tables are what labelling needs:
    while either fails no upload is taken.
    """

    def __init__(self) -> None:
        self._problems: dict[str, str | None] = {
            "queue": "the upload queue has not been polled yet", "broker": None,
            "tables": None}
        self._failures: Counter[str] = Counter()
        self.can_label = asyncio.Event()
        self.can_label.set()
        # Set when the broker or a table fails between checks, so the next check comes at once.
        self.suspect = asyncio.Event()

    def report(self, part: str, problem: str | None) -> int:
        """Record a try's outcome; returns how many tries of that part failed in a row."""
        before, failed_before = self._problems[part], self._failures[part]
        self._problems[part] = problem
        self._failures[part] = failed_before + 1 if problem else 0
        if problem and problem != before:
            log.warning("not ready: %s", problem, extra={"check": part})
        elif not problem and failed_before:
            log.info("ready again: the %s answers", part, extra={"check": part})
        if part in LABELLING_NEEDS and problem:
            self.can_label.clear()
            self.suspect.set()
        elif not any(self._problems[need] for need in LABELLING_NEEDS):
            self.can_label.set()
        return self._failures[part]

    async def ready(self) -> str | None:
        return next((problem for problem in self._problems.values() if problem), None)


class Acknowledgements:
    """Deletes handled messages, up to ten a call (DeleteMessageBatch) instead of one call
    each. Nothing waits for a batch to fill: the receipts that arrive while one call is out
    go together in the next, so batches grow with the load and idle ones go alone at once."""

    def __init__(self, queue: UploadQueue) -> None:
        self._queue = queue
        self._pending: list[str] = []
        self._arrived = asyncio.Event()
        self._closed = False

    def add(self, receipt: str) -> None:
        self._pending.append(receipt)
        self._arrived.set()

    def close(self) -> None:
        """No more receipts: `run` returns once the pending ones are sent."""
        self._closed = True
        self._arrived.set()

    async def run(self) -> None:
        while not (self._closed and not self._pending):
            await self._arrived.wait()
            self._arrived.clear()
            while self._pending:
                batch, self._pending = self._pending[:10], self._pending[10:]
                await self._send(batch)

    async def _send(self, receipts: list[str]) -> None:
        try:
            failed = await asyncio.to_thread(self._queue.acknowledge_all, receipts)
        except Exception as error:
            failed, detail = receipts, repr(error)
        else:
            detail = "refused by SQS"
        if failed:
            # Handled but not deleted: they come back after the visibility timeout and are
            # redone harmlessly (same rows, same event_id).
            metrics.IMAGES_RETRIED.inc(len(failed))
            log.warning("%d handled messages not deleted (%s): they will be redelivered",
                        len(failed), detail)


async def run_worker(labeler: Labeler, queue: UploadQueue, stop: asyncio.Event,
                     health: WorkerHealth, policy: WorkerPolicy) -> None:
    """Poll until stop is set, at most `concurrency` messages in hand; then finish them.

    A message is deleted only after all its images are handled. While the broker does not
    answer no message is taken: its publish would fail and spend one of its receives.
    """
    in_flight: set[asyncio.Task[None]] = set()
    acks = Acknowledgements(queue)
    deleting = asyncio.create_task(acks.run())
    watchers = [asyncio.create_task(_watch_backlog(queue, stop)),
                asyncio.create_task(_watch_needs(labeler, health, stop, policy))]
    while not stop.is_set():
        if len(in_flight) >= policy.concurrency:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            continue
        if not health.can_label.is_set():
            await _first_of(stop, health.can_label)
            continue
        room = policy.concurrency - len(in_flight)
        for notification in await _receive(queue, room, stop, health, policy):
            task = asyncio.create_task(_handle(labeler, queue, acks, notification, health))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
    log.info("stopping: finishing %d messages in hand", len(in_flight))
    await asyncio.gather(*watchers, *in_flight)
    acks.close()
    await deleting


async def _receive(queue: UploadQueue, room: int, stop: asyncio.Event, health: WorkerHealth,
                   policy: WorkerPolicy) -> list[Notification]:
    """One long poll; if stop comes meanwhile, or the broker goes, what it brings goes
    back to the queue at once."""
    polling = asyncio.create_task(asyncio.to_thread(queue.receive, room))
    await _first_of(stop, polling)
    try:
        notifications = await polling
    except Exception as error:
        failures = health.report("queue", f"cannot poll the upload queue: {error}")
        await _first_of(stop, timeout=policy.pause(failures))
        return []
    health.report("queue", None)
    if not stop.is_set() and health.can_label.is_set():
        return notifications
    for notification in notifications:
        await asyncio.to_thread(queue.release, notification.receipt)
    return []


async def _handle(labeler: Labeler, queue: UploadQueue, acks: Acknowledgements,
                  notification: Notification, health: WorkerHealth) -> None:
    try:
        await _settle(labeler, queue, acks, notification)
    except PublishFailed as error:
        health.report("broker", "the Kafka broker did not take an event in time")
        await _leave_for_redelivery(queue, notification, error)
    except TableMissing as error:
        health.report("tables", str(error))
        await _leave_for_redelivery(queue, notification, error)
    except Exception as error:
        await _leave_for_redelivery(queue, notification, error)


async def _settle(labeler: Labeler, queue: UploadQueue, acks: Acknowledgements,
                  notification: Notification) -> None:
    """Label the message's images; then delete it, or dead-letter it if a detector refused
    one (after the other detectors labelled it: a redrive redoes theirs harmlessly)."""
    if notification.problem:
        metrics.IMAGES_FAILED.labels("", "bad_notification").inc()
        log.warning("message refused (bad_notification): %s", notification.problem,
                    extra={"reason": "bad_notification"})
        await asyncio.to_thread(queue.dead_letter, notification, "bad_notification",
                                notification.problem)
        return
    results = [result for upload in notification.uploads
               for result in await label_image(labeler, upload,
                                               first_delivery=notification.receives == 1)]
    failed = [result for result in results if result.outcome is Outcome.FAILED]
    if failed:
        # Refused for good: kept on the dead-letter queue with why, not redelivered.
        await asyncio.to_thread(queue.dead_letter, notification, failed[0].reason,
                                "; ".join(result.detail for result in failed))
    else:
        acks.add(notification.receipt)


async def _leave_for_redelivery(queue: UploadQueue, notification: Notification,
                                error: Exception) -> None:
    """A transient failure: SQS redelivers the message after its visibility timeout; on its
    last allowed receive it goes to the dead-letter queue here, with why, and is counted."""
    keys = ", ".join(upload.key for upload in notification.uploads) or "(no uploads)"
    where = {"object_key": keys}
    if not queue.is_last_receive(notification):
        metrics.IMAGES_RETRIED.inc()
        if isinstance(error, EXPLAINED):
            log.warning("%s: not labelled now (%s); the message will be redelivered", keys,
                        error, extra=where)
        else:
            log.exception("%s: handling failed; the message will be redelivered", keys,
                          exc_info=error, extra=where)
        return
    detail = f"still failing after {notification.receives} receives: {error!r}"
    try:
        await asyncio.to_thread(queue.dead_letter, notification, "retries_exhausted", detail)
    except Exception:
        log.exception("%s: cannot dead-letter it; SQS will on its next receive", keys,
                      extra=where)
        return
    metrics.IMAGES_FAILED.labels("", "retries_exhausted").inc()
    log.error("%s: not labelled (retries_exhausted): %s", keys, detail,
              extra={**where, "reason": "retries_exhausted"})


async def _watch_needs(labeler: Labeler, health: WorkerHealth, stop: asyncio.Event,
                      policy: WorkerPolicy) -> None:
    """Check the broker and the label tables: every broker_check_seconds while they answer,
    backing off while one does not."""
    while not stop.is_set():
        health.suspect.clear()
        failures = max(health.report("broker", await labeler.publisher.check()),
                       health.report("tables", await _tables_problem(labeler)))
        if failures:
            await _first_of(stop, timeout=policy.pause(failures))
        else:
            await _first_of(stop, health.suspect, timeout=policy.broker_check_seconds)


async def _tables_problem(labeler: Labeler) -> str | None:
    problems = await asyncio.gather(*(asyncio.to_thread(detector.table.check)
                                      for detector in labeler.detectors))
    return next((problem for problem in problems if problem), None)


async def _watch_backlog(queue: UploadQueue, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            metrics.SQS_BACKLOG.set(await asyncio.to_thread(queue.backlog))
        except QueueMissing:
            pass  # the poll says so, once, through readiness
        except Exception as error:
            log.warning("cannot read the upload queue's backlog: %s", error)
        await _first_of(stop, timeout=BACKLOG_INTERVAL_SECONDS)


async def _first_of(*awaited: asyncio.Event | asyncio.Task[object],
                    timeout: float | None = None) -> None:
    """Wait until one event is set or one task is done, or the timeout passes."""
    waits = [asyncio.ensure_future(item.wait()) if isinstance(item, asyncio.Event) else item
             for item in awaited]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait, item in zip(waits, awaited, strict=True):
            if wait is not item:
                wait.cancel()
