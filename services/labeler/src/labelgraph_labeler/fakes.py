"""In-memory twins of the ports, for the unit tier: they keep state the way the real
systems do (rows by key, messages until deleted), record what was asked of them, and fail
on demand. Beside the ports, not in the tests, so mypy proves each one fits its port.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from labelgraph_contract import DetectedLabel, ImageLabeled
from labelgraph_labeler.adapters.dynamodb import TableMissing
from labelgraph_labeler.adapters.kafka import PublishFailed, PublishRefused
from labelgraph_labeler.adapters.s3 import ImageHeader, Listing, image_header
from labelgraph_labeler.adapters.sqs import Notification, Upload
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN, DEFAULT_MAX_PIXELS
from labelgraph_labeler.domain import (
    Detection,
    ImageRejected,
    ImageSource,
    KeyLayout,
    StoredImage,
)
from labelgraph_labeler.handlers import ConfiguredDetector, Labeler, label_image
from labelgraph_labeler.rows import Checkpoint, Row

UPLOADED_AT = datetime(2016, 11, 5, 15, 15, 30, tzinfo=UTC)
# An empty receive waits this long for a notification, as SQS's long poll does (for far
# less: a stopping worker checks its stop flag between polls).
LONG_POLL_SECONDS = 0.05
# A 1x1 grey PNG (67 bytes): the smallest upload whose header the labeler takes.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154"
    "789c636800000082008177cd72b60000000049454e44ae426082")


@dataclass
class FakeImageStore:
    """A bucket of objects: (bucket, key) -> bytes; a missing one is refused as S3 does,
    a header read as the S3 adapter reads it (from the whole object: no range here)."""

    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    described: list[str] = field(default_factory=list)
    headers_read: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)  # prefixes listed, whole or a level

    def put(self, bucket: str, key: str, content: bytes = TINY_PNG) -> None:
        self.objects[bucket, key] = content

    def describe(self, bucket: str, key: str) -> StoredImage:
        self.described.append(key)
        self._refuse_missing(bucket, key)
        return StoredImage(bucket, key, f"etag-{len(self.objects[bucket, key])}", UPLOADED_AT)

    def checked_header(self, bucket: str, key: str) -> ImageHeader:
        self.headers_read.append(key)
        self._refuse_missing(bucket, key)
        header = image_header(self.objects[bucket, key])
        if header is None:
            raise ImageRejected(f"s3://{bucket}/{key}: no JPEG or PNG header", "not_image")
        return header.checked(self.max_pixels)

    def content(self, bucket: str, key: str) -> bytes:
        self.fetched.append(key)
        self._refuse_missing(bucket, key)
        return self.objects[bucket, key]

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        self.listed.append(prefix)
        return iter(self._under(bucket, prefix))

    def children(self, bucket: str, prefix: str) -> Listing:
        self.listed.append(prefix)
        below = [key[len(prefix):] for key in self._under(bucket, prefix)]
        return Listing(sorted({prefix + rest.partition("/")[0] + "/"
                               for rest in below if "/" in rest}),
                       [prefix + rest for rest in below if "/" not in rest])

    def _under(self, bucket: str, prefix: str) -> list[str]:
        return sorted(key for (held, key) in self.objects
                      if held == bucket and key.startswith(prefix))

    def _refuse_missing(self, bucket: str, key: str) -> None:
        if (bucket, key) not in self.objects:
            raise ImageRejected(f"s3://{bucket}/{key} does not exist", "missing")


@dataclass
class FakeLabelTable:
    """Rows by (object_key, label), replaced as the real table replaces them."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)  # keys whose rows a write read first
    days_read: list[date] = field(default_factory=list)  # days whose keys were asked for
    missing: bool = False  # deleted by an operator: every call fails as DynamoDB's would

    def replace_rows(self, object_key: str, rows: list[dict[str, Any]], *,
                     first_write: bool = False) -> None:
        if self.missing:
            raise TableMissing("the label table fake does not exist")
        if not first_write:
            self.reads.append(object_key)
            for held in [k for k in self.rows if k[0] == object_key]:
                del self.rows[held]
        for row in rows:
            self.rows[row["object_key"], row["label"]] = row

    def of(self, object_key: str) -> list[Row]:
        return [row for (key, _), row in sorted(self.rows.items()) if key == object_key]

    def rows_of_day(self, day: date, after_ts: int | None) -> list[Row]:
        return sorted((row for row in self.rows.values()
                       if row["capture_date"] == day.isoformat()
                       and (after_ts is None or int(row["event_ts"]) > after_ts)),
                      key=lambda row: int(row["event_ts"]))

    def keys_of_day(self, day: date) -> set[str]:
        self.days_read.append(day)
        if self.missing:
            raise TableMissing("the label table fake does not exist")
        return {row["object_key"] for row in self.rows_of_day(day, None)}

    def has_rows(self, object_key: str) -> bool:
        return any(key == object_key for key, _ in self.rows)

    def earliest_capture_date(self) -> date | None:
        days = [row["capture_date"] for row in self.rows.values()]
        return date.fromisoformat(min(days)) if days else None

    def check(self) -> str | None:
        return "the label table fake does not exist" if self.missing else None


@dataclass
class FakeCheckpointStore:
    """One checkpoint object; every save is kept, in order."""

    key: str = "status/checkpoint"
    saved: list[Checkpoint] = field(default_factory=list)

    def load(self) -> Checkpoint | None:
        return self.saved[-1] if self.saved else None

    def save(self, checkpoint: Checkpoint) -> None:
        self.saved.append(checkpoint)


@dataclass
class FakeReconcileProgress:
    """The reconcile's progress object; every save is kept, in order."""

    key: str = "status/reconcile_progress"
    saved: list[tuple[str, str | None]] = field(default_factory=list)

    def load(self, scope: str) -> str | None:
        last = self.saved[-1] if self.saved else None
        return last[1] if last and last[0] == scope else None

    def save(self, scope: str, settled: str | None) -> None:
        self.saved.append((scope, settled))


@dataclass
class FakeReconcileMark:
    """The reconcile at start's mark; every save is kept, in order."""

    key: str = "status/reconcile_at_start"
    saved: list[tuple[str, date]] = field(default_factory=list)

    def load(self, scope: str) -> date | None:
        last = self.saved[-1] if self.saved else None
        return last[1] if last and last[0] == scope else None

    def save(self, scope: str, began: date) -> None:
        self.saved.append((scope, began))


@dataclass
class FakeEventPublisher:
    """Records every event the broker took; `down` (a reason) refuses publishes and checks."""

    published: list[ImageLabeled] = field(default_factory=list)
    down: str | None = None
    # Object keys whose events the topic refuses for good (too large for it, say).
    refuses: set[str] = field(default_factory=set)

    async def publish(self, event: ImageLabeled) -> None:
        for _, why in await self.publish_all([event]):
            raise PublishRefused(why)

    async def publish_all(self, events: list[ImageLabeled]) -> list[tuple[ImageLabeled, str]]:
        if self.down:
            raise PublishFailed(self.down)
        refused = [event for event in events if event.object_key in self.refuses]
        self.published.extend(event for event in events if event not in refused)
        return [(event, "the topic refused it") for event in refused]

    async def check(self) -> str | None:
        return self.down


@dataclass
class FakeUploadQueue:
    """Messages handed out until deleted, released or dead-lettered, with the redrive
    policy's receive limit. Its methods run on worker threads, hence the lock."""

    max_receives: int = 3
    waiting: list[Notification] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    dead_letters: list[tuple[str, str, str]] = field(default_factory=list)  # receipt, why
    # While cleared, a poll is "in progress": it returns only once the test sets it.
    answer_polls: threading.Event = field(default_factory=threading.Event)
    poll_started: threading.Event = field(default_factory=threading.Event)
    polls: int = 0
    sent: int = 0

    def __post_init__(self) -> None:
        self.answer_polls.set()
        self._lock = threading.Condition()  # notified when a notification arrives

    def send(self, *uploads: Upload, receives: int = 1, body: str | None = None) -> str:
        """Queue a notification of the uploads; returns its receipt."""
        self.sent += 1
        receipt = f"receipt-{self.sent}"
        text = body if body is not None else json.dumps({"Records": [
            {"eventName": "ObjectCreated:Put",
             "s3": {"bucket": {"name": u.bucket}, "object": {"key": u.key}}} for u in uploads]})
        problem = None if body is None else "not an S3 notification"
        with self._lock:
            self.waiting.append(Notification(receipt, text, list(uploads), receives, problem))
            self._lock.notify_all()
        return receipt

    @property
    def handled(self) -> list[str]:
        return self.deleted + self.released + [receipt for receipt, _, _ in self.dead_letters]

    def receive(self, max_messages: int) -> list[Notification]:
        self.poll_started.set()
        self.answer_polls.wait(timeout=5)
        with self._lock:
            self.polls += 1
            if not self.waiting:  # a long poll: answers when a notification arrives
                self._lock.wait(timeout=LONG_POLL_SECONDS)
            taken, self.waiting = self.waiting[:max_messages], self.waiting[max_messages:]
        return taken

    def is_last_receive(self, notification: Notification) -> bool:
        return notification.receives >= self.max_receives

    def acknowledge_all(self, receipts: list[str]) -> list[str]:
        with self._lock:
            self.deleted.extend(receipts)
        return []

    def release(self, receipt: str) -> None:
        with self._lock:
            self.released.append(receipt)

    def dead_letter(self, notification: Notification, reason: str, detail: str) -> None:
        with self._lock:
            self.dead_letters.append((notification.receipt, reason, detail))

    def backlog(self) -> int:
        return len(self.waiting)


@dataclass
class FakeDetector:
    """Answers every image with `labels`, or raises `failure` (ImageRejected: for good)."""

    labels: dict[str, float] = field(default_factory=lambda: {"Person": 90.0})
    failure: Exception | None = None
    kind: str = "fake"
    parameters: dict[str, str] = field(default_factory=lambda: {"max_labels": "10"})
    asked: list[str] = field(default_factory=list)

    def detect(self, image: ImageSource) -> Detection:
        self.asked.append(image.key)
        if self.failure:
            raise self.failure
        return Detection([DetectedLabel(name=name, confidence=confidence)
                          for name, confidence in self.labels.items()], "1.0")


@dataclass
class FakeWorld:
    """One labeler over fakes only, wired as bootstrap wires the real adapters: a table
    and a checkpoint per detector, one image store, publisher and queue."""

    labeler: Labeler
    images: FakeImageStore
    publisher: FakeEventPublisher
    queue: FakeUploadQueue
    tables: dict[str, FakeLabelTable]
    checkpoints: dict[str, FakeCheckpointStore]

    async def labelled(self, bucket: str, *keys: str) -> None:
        """Each key uploaded, then labelled as on its first delivery."""
        for key in keys:
            self.images.put(bucket, key)
            await label_image(self.labeler, Upload(bucket, key), first_delivery=True)


def fake_world(excluded_cameras: frozenset[str] = frozenset(),
               **detectors: FakeDetector) -> FakeWorld:
    """A labeler with the detectors named (one "fake" when none is), in the cameras' key
    layout on UTC."""
    detectors = detectors or {"fake": FakeDetector()}
    images, publisher = FakeImageStore(), FakeEventPublisher()
    tables = {name: FakeLabelTable() for name in detectors}
    checkpoints = {name: FakeCheckpointStore(f"status/checkpoint.{name}") for name in detectors}
    labeler = Labeler(
        images=images,
        detectors=tuple(ConfiguredDetector(name, model, tables[name], checkpoints[name])
                        for name, model in detectors.items()),
        publisher=publisher,
        layout=KeyLayout.from_settings(DEFAULT_KEY_PATTERN, "UTC"),
        excluded_cameras=excluded_cameras)
    return FakeWorld(labeler, images, publisher, FakeUploadQueue(), tables, checkpoints)
