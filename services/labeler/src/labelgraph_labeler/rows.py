"""The label table's rows: written from an event, read back into the exact same event.

No I/O here: the table adapter stores and fetches these dictionaries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from pydantic import ValidationError

from labelgraph_contract import (
    DetectedLabel,
    EventTooLarge,
    ImageLabeled,
    LabelInstance,
    encode_event,
)
from labelgraph_labeler.domain import ContractBreachError

# An image with no labels still gets one row, so the table (the source of truth) knows it
# was labelled and the backfill re-emits its empty event. Its sort key starts with U+001F
# (unit separator), a control character the contract refuses in label names: no label can
# ever take the marker's row. Shown as "\u001fno-labels" by JSON tools.
NO_LABELS = "\x1fno-labels"
# The marker of tables written before: a label may be called that, so such a row is a
# marker only without a confidence (every label row has one).
OLD_NO_LABELS = "#no-labels"

Row = Mapping[str, Any]


def label_rows(event: ImageLabeled) -> list[dict[str, Any]]:
    """One item per label with the original table's attributes plus provenance."""
    image = {
        "object_key": event.object_key,
        "event_ts": event.event_ts,
        "capture_date": event.capture_date.isoformat(),
        "camera": event.camera,
        "captured_at": event.captured_at.isoformat(),
        "bucket": event.bucket,
        "image_etag": event.image_etag,
        "detector": event.detector,
        "model_version": event.model_version,
        "labeled_at": event.labeled_at.isoformat(),
        "event_id": event.event_id,
    }
    if not event.labels:
        return [{**image, "label": NO_LABELS}]
    return [
        {
            **image,
            "label": label.name,
            "confidence": Decimal(str(label.confidence)),
            "parents": label.parents,
            # Kept whole so the backfill can rebuild the exact event from the table.
            "instances_json": json.dumps([i.model_dump() for i in label.instances]),
        }
        for label in event.labels
    ]


def event_from_rows(rows: Iterable[Row]) -> ImageLabeled:
    """The event of one image's rows: those of its newest write.

    All rows of one write share its labeled_at, so rows left by an older labelling, or by
    an earlier write of the same one that the newest did not rewrite, are ignored.
    """
    rows = list(rows)
    newest = max(rows, key=lambda row: (row["labeled_at"], row["event_id"]))
    write = (newest["labeled_at"], newest["event_id"])
    current = [row for row in rows if (row["labeled_at"], row["event_id"]) == write]
    labels = [_label(row) for row in current if not is_marker(row)]
    return ImageLabeled.model_validate(
        {
            **{name: newest[name] for name in _IMAGE_FIELDS},
            "event_ts": int(newest["event_ts"]),
            "labels": sorted(labels, key=lambda label: (-label.confidence, label.name)),
        }
    )


def is_marker(row: Row) -> bool:
    """Whether a row is an image's zero-label marker (today's, or the old one) or a label."""
    return row["label"] == NO_LABELS or (row["label"] == OLD_NO_LABELS
                                         and "confidence" not in row)


_IMAGE_FIELDS = ("event_id", "bucket", "object_key", "image_etag", "camera", "captured_at",
                 "capture_date", "detector", "model_version", "labeled_at")


def _label(row: Row) -> DetectedLabel:
    return DetectedLabel(
        name=row["label"],
        confidence=float(row["confidence"]),
        parents=list(row.get("parents", [])),
        instances=[LabelInstance.model_validate(i)
                   for i in json.loads(row.get("instances_json", "[]"))],
    )


@dataclass(frozen=True)
class Tick:
    """All rows captured in one second of one day: the unit the backfill never splits.

    `refused` holds (object_key, why) of the images whose rows make no valid event
    (written before the contract refused such values, or before it bounded an event's
    bytes): reported, never published.
    """

    capture_date: date
    event_ts: int
    events: list[ImageLabeled]
    refused: list[tuple[str, str]]


def ticks(rows: Iterable[Row]) -> Iterator[Tick]:
    """A day's rows (sorted by event_ts, as the index returns them) as ticks of events.

    Two images can share a second, and the index does not order rows within one: so an
    image is complete only once the next second begins.
    """
    for event_ts, same_second in groupby(rows, key=lambda row: int(row["event_ts"])):
        by_image: dict[str, list[Row]] = defaultdict(list)
        for row in same_second:
            by_image[row["object_key"]].append(row)
        events: list[ImageLabeled] = []
        refused: list[tuple[str, str]] = []
        for key in sorted(by_image):
            try:
                event = event_from_rows(by_image[key])
                encode_event(event)  # rows written before events were bounded may make more
                events.append(event)
            except ValidationError as error:
                refused.append((key, str(ContractBreachError.of(error))))
            except EventTooLarge as error:
                refused.append((key, str(error)))
            except LookupError as error:  # a row missing an attribute: written by hand?
                refused.append((key, f"a row without {error}"))
        day = date.fromisoformat(by_image[min(by_image)][0]["capture_date"])
        yield Tick(day, event_ts, events, refused)


@dataclass(frozen=True)
class Checkpoint:
    """Where the backfill stopped: every row up to this second of this day is published."""

    capture_date: date
    event_ts: int

    def to_json(self) -> bytes:
        return json.dumps({"capture_date": self.capture_date.isoformat(),
                           "event_ts": self.event_ts}).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Checkpoint:
        document = json.loads(raw)
        return cls(date.fromisoformat(document["capture_date"]), int(document["event_ts"]))


def days_to_read(first: date, last: date,
                 checkpoint: Checkpoint | None) -> Iterator[tuple[date, int | None]]:
    """Each day from first to last, with the second to read after (the checkpoint's day)."""
    day = first
    while day <= last:
        after = checkpoint.event_ts if checkpoint and checkpoint.capture_date == day else None
        yield day, after
        day += timedelta(days=1)


@dataclass(frozen=True)
class Batch:
    """Events to publish together, the images refused among them, and the checkpoint after."""

    events: list[ImageLabeled]
    refused: list[tuple[str, str]]
    reached: Checkpoint


def batches(day_ticks: Iterable[Tick], size: int) -> Iterator[Batch]:
    """Whole ticks gathered into batches of at least `size` images, each with its checkpoint."""
    events: list[ImageLabeled] = []
    refused: list[tuple[str, str]] = []
    for tick in day_ticks:
        events.extend(tick.events)
        refused.extend(tick.refused)
        reached = Checkpoint(tick.capture_date, tick.event_ts)
        if len(events) + len(refused) >= size:
            yield Batch(events, refused, reached)
            events, refused = [], []
    if events or refused:
        yield Batch(events, refused, reached)
