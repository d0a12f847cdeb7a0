"""What the use cases need of each outside system, and nothing more.

The handlers and the worker are typed on these; bootstrap hands in the real adapters
(adapters/), the unit tests the twins of labelgraph_labeler.fakes. The Detector protocol
lives in the domain (local models and benchmarks import it from there) and is named here
so every port is in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from labelgraph_contract import ImageLabeled
from labelgraph_labeler.adapters.s3 import ImageHeader, Listing  # plain value types, no I/O
from labelgraph_labeler.adapters.sqs import Notification  # a plain message type, no I/O
from labelgraph_labeler.domain import Detector, StoredImage
from labelgraph_labeler.rows import Checkpoint, Row

__all__ = ["CheckpointStore", "Detector", "EventPublisher", "ImageStore", "LabelTable",
           "ReconcileMark", "ReconcileProgress", "UploadQueue"]


class ImageStore(Protocol):
    """The uploaded images (S3). Every method blocks: callers run it off the event loop."""

    def describe(self, bucket: str, key: str) -> StoredImage:
        """ETag, metadata and LastModified; ImageRejected if it is missing or forbidden."""
        ...

    def checked_header(self, bucket: str, key: str) -> ImageHeader:
        """The image's format and size from its header, nothing decoded; ImageRejected
        "not_image" when it has no JPEG or PNG header, "too_large" when it has more pixels
        than the labeler takes (LABELER_MAX_PIXELS)."""
        ...

    def content(self, bucket: str, key: str) -> bytes:
        """The image's bytes, for local models; ImageRejected if it cannot be had."""
        ...

    def keys(self, bucket: str, prefix: str) -> Iterable[str]:
        """Every key under prefix."""
        ...

    def children(self, bucket: str, prefix: str) -> Listing:
        """The level under prefix: its sub-prefixes (to the next "/") and its own objects."""
        ...


class LabelTable(Protocol):
    """One detector's label rows (DynamoDB), the source of truth. Blocking; every call
    raises TableMissing while the table does not exist."""

    def replace_rows(self, object_key: str, rows: list[dict[str, Any]], *,
                     first_write: bool = False) -> None:
        """Write the image's rows and drop those of its earlier labelling they do not
        rewrite (none are read when `first_write`); ImageRejected for rows it never takes."""
        ...

    def rows_of_day(self, day: date, after_ts: int | None) -> list[Row]:
        """The rows captured that day after the second `after_ts`, in event_ts order."""
        ...

    def keys_of_day(self, day: date) -> set[str]:
        """The object keys of the images with rows captured that day."""
        ...

    def has_rows(self, object_key: str) -> bool:
        """Whether the image has any row, whatever its capture day."""
        ...

    def earliest_capture_date(self) -> date | None:
        """The first capture day in the table, None when it is empty."""
        ...

    def check(self) -> str | None:
        """None when the table exists and takes writes, else why not."""
        ...


class CheckpointStore(Protocol):
    """Where one detector's backfill stopped (an S3 object). Blocking."""

    @property
    def key(self) -> str:
        """The checkpoint's object key: S3 notifies it like an upload, so it is skipped."""
        ...

    def load(self) -> Checkpoint | None: ...

    def save(self, checkpoint: Checkpoint) -> None: ...


class ReconcileProgress(Protocol):
    """Where an interrupted `reconcile --all` stopped (an S3 object). Blocking."""

    @property
    def key(self) -> str:
        """The progress object's key: S3 notifies it like an upload, so it is skipped."""
        ...

    def load(self, scope: str) -> str | None:
        """The last day prefix settled by a walk of this scope, None to start from the top."""
        ...

    def save(self, scope: str, settled: str | None) -> None:
        """Record the last day prefix settled (None: the walk was finished)."""
        ...


class ReconcileMark(Protocol):
    """The day the last finished reconcile at start began (an S3 object). Blocking."""

    @property
    def key(self) -> str:
        """The mark's object key: S3 notifies it like an upload, so it is skipped."""
        ...

    def load(self, scope: str) -> date | None:
        """The day a finished reconcile of this scope began, None if none finished yet."""
        ...

    def save(self, scope: str, began: date) -> None: ...


class EventPublisher(Protocol):
    """The label topic (Kafka). Raises PublishFailed when the broker does not take events."""

    async def publish(self, event: ImageLabeled) -> None:
        """PublishRefused (an ImageRejected) if the topic can never take the event."""
        ...

    async def publish_all(self, events: list[ImageLabeled]) -> list[tuple[ImageLabeled, str]]:
        """Returns once the broker has acknowledged every event but those it refused for
        good, which it returns with why."""
        ...

    async def check(self) -> str | None:
        """None when the broker answers with the topic, else why not."""
        ...


class UploadQueue(Protocol):
    """The bucket's upload notifications (SQS) and their dead-letter queue. Blocking."""

    def receive(self, max_messages: int) -> list[Notification]:
        """One long poll: up to max_messages notifications, maybe none."""
        ...

    def is_last_receive(self, notification: Notification) -> bool:
        """Whether the queue would dead-letter this message on its next receive."""
        ...

    def acknowledge_all(self, receipts: list[str]) -> list[str]:
        """Delete handled messages (ten at most); returns the receipts not deleted."""
        ...

    def release(self, receipt: str) -> None:
        """Make a received message visible again at once."""
        ...

    def dead_letter(self, notification: Notification, reason: str, detail: str) -> None:
        """Move a message that will never succeed to the dead-letter queue, with why."""
        ...

    def backlog(self) -> int:
        """Messages waiting, approximately."""
        ...
