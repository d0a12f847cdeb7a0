"""In-memory twins of the api's ports, for the unit tier of the handlers.

FakeGraphReads answers each question from a list of images in plain Python, without the
anchors and date walks of the Cypher reads (those are the integration tier's business):
same inputs and the same row shapes as adapters/graph_reads.py, so a handler cannot tell.
Beside the ports, so mypy proves each twin fits its port (fake_world).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelgraph_api.domain import (
    DISAGREEMENT,
    UNLABELLED,
    StoredVerdict,
    Withdrawal,
    local_hour,
    review_key,
)
from labelgraph_api.ports import GraphReads, ImageLinks, Row, VerdictGraph, VerdictStore
from labelgraph_api.verdict_history import VerdictHistory
from labelgraph_api.windows import Window, window


@dataclass
class FakeImage:
    object_key: str
    camera: str
    timestamp: int
    captured_at: str  # camera-local ISO 8601 with its offset, as the graph stores it
    labels: dict[tuple[str, str], float] = field(  # (name, detector) -> confidence
        default_factory=dict[tuple[str, str], float])
    detectors: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict[str, str])  # detector -> version

    def confidence(self, label: str, detector: str | None = None) -> float | None:
        found = [value for (name, by), value in self.labels.items()
                 if name == label and detector in (None, by)]
        return max(found, default=None)

    def row(self, detector: str | None = None) -> Row:
        labels: list[Row] = [{"name": name, "confidence": value, "detector": by,
                              "model_version": None, "boxes": []}
                             for (name, by), value in self.labels.items()
                             if detector in (None, by)]
        return {"object_key": self.object_key, "camera": self.camera,
                "captured_at": self.captured_at, "timestamp": self.timestamp,
                "bucket": None, "detectors": list(self.detectors), "labeled_at": None,
                "labels": sorted(labels, key=lambda item: (-item["confidence"], item["name"]))}


class FakeGraphReads:
    """The label graph in memory; `down` makes every question fail as an unreachable one."""

    def __init__(self, images: Sequence[FakeImage] = ()) -> None:
        self.images = list(images)
        self.reviews: dict[tuple[str, str], bool] = {}  # (object_key, label) -> present
        self.boxes: dict[tuple[str, str], str] = {}  # (object_key, detector) -> stored JSON
        self.sampled: set[tuple[str, str]] = set()  # reviews from the random sample
        self.down = False

    def _in(self, span: Window, cameras: Sequence[str] | None = None,
            detector: str | None = None) -> list[FakeImage]:
        if self.down:
            raise ConnectionError("graph unreachable")
        return [image for image in self.images
                if span.since <= image.timestamp < span.until
                and (cameras is None or image.camera in cameras)
                and (detector is None or detector in image.detectors)]

    async def ping(self) -> None:
        if self.down:
            raise ConnectionError("graph unreachable")

    async def window_of(self, since: int | None, until: int | None) -> Window:
        return window(since, until, sorted({image.captured_at[:10] for image in self.images}))

    async def label_named(self, name: str) -> str | None:
        names = sorted({label for image in self.images for label, _ in image.labels})
        return name if name in names else next(
            (known for known in names if known.lower() == name.lower()), None)

    async def cameras_named(self, names: Sequence[str]) -> set[str]:
        return set(names) & {image.camera for image in self.images}

    async def camera_names(self, limit: int) -> list[str]:
        return sorted({image.camera for image in self.images})[:limit]

    async def cameras(self) -> list[Row]:
        per_camera: dict[str, list[int]] = {}
        for image in self.images:
            per_camera.setdefault(image.camera, []).append(image.timestamp)
        return [{"camera": camera, "images": len(stamps), "first_ts": min(stamps),
                 "last_ts": max(stamps)} for camera, stamps in sorted(per_camera.items())]

    async def labels(self, prefix: str | None, offset: int, limit: int) -> list[Row]:
        counts: dict[str, int] = {}
        for image in self.images:
            for name, _ in image.labels:
                if prefix is None or name.lower().startswith(prefix.lower()):
                    counts[name] = counts.get(name, 0) + 1
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        return [{"label": name, "images": n} for name, n in ranked[offset:offset + limit]]

    async def sightings(self, span: Window, **scope: Any) -> list[Row]:
        label, cameras, detector = scope["label"], scope["cameras"], scope["detector"]
        min_confidence = scope["min_confidence"]
        hits: dict[str, list[int]] = {}
        for image in self._in(span, cameras):
            confidence = image.confidence(label, detector)
            if confidence is not None and confidence >= min_confidence:
                hits.setdefault(image.camera, []).append(image.timestamp)
        rows = [{"camera": camera, "images": len(stamps), "first_ts": min(stamps),
                 "last_ts": max(stamps)} for camera, stamps in hits.items()]
        return sorted(rows, key=lambda row: (-row["images"], row["camera"]))

    async def latest_captures(self, rows: Sequence[Row]) -> dict[str, str]:
        wanted = {(row["camera"], row["last_ts"]) for row in rows}
        return {image.camera: image.captured_at for image in self.images
                if (image.camera, image.timestamp) in wanted}

    async def confidence_histogram(self, span: Window, **scope: Any) -> list[Row]:
        label, cameras, detector = scope["label"], scope["cameras"], scope["detector"]
        width, threshold = scope["width"] or 1, scope["threshold"]
        buckets: dict[float, list[int]] = {}
        for image in self._in(span, cameras):
            confidence = image.confidence(label, detector)
            if confidence is not None:
                counts = buckets.setdefault(math.floor(confidence / width) * width, [0, 0])
                counts[0] += 1
                counts[1] += confidence >= threshold
        return [{"bucket": bucket, "images": n, "at_or_above": above}
                for bucket, (n, above) in sorted(buckets.items())]

    async def images_in_scope(self, span: Window, cameras: Sequence[str] | None,
                              detector: str | None) -> int:
        return len(self._in(span, cameras, detector))

    async def search_images(self, span: Window, labels: Sequence[str],
                            after: tuple[int, str] | None, limit: int,
                            **scope: Any) -> list[Row]:
        cameras, hour, detector = scope["cameras"], scope["hour"], scope["detector"]
        min_confidence, max_confidence = scope["min_confidence"], scope["max_confidence"]

        def wanted(image: FakeImage) -> bool:
            confidences = [image.confidence(name, detector) for name in labels]
            return (all(c is not None and min_confidence <= c <= max_confidence
                        for c in confidences)
                    and (hour is None or int(image.captured_at[11:13]) == hour)
                    and (after is None or (image.timestamp, image.object_key) < after))
        found = sorted((image for image in self._in(span, cameras, detector) if wanted(image)),
                       key=lambda image: (image.timestamp, image.object_key), reverse=True)
        return [image.row(detector) for image in found[:limit]]

    async def image(self, object_key: str) -> Row | None:
        for image in self.images:
            if image.object_key == object_key:
                reviews = [{"label": label, "present": present, "reviewer": "fake",
                            "reviewed_at": None}
                           for (key, label), present in sorted(self.reviews.items())
                           if key == object_key]
                return {**image.row(), "reviews": reviews}
        return None

    async def rollup(self, span: Window, **scope: Any) -> list[Row]:
        by, cameras, label = scope["parts"], scope["cameras"], scope["label"]
        min_confidence, detector = scope["min_confidence"], scope["detector"]
        parts = {"year": (0, 4), "month": (5, 7), "day": (8, 10), "hour": (11, 13)}
        rows = []
        for image in self._in(span, cameras, detector):
            confidence = None if label is None else image.confidence(label, detector)
            if label is None or (confidence is not None and confidence >= min_confidence):
                row: Row = {name: int(image.captured_at[start:end]) if name in by else None
                            for name, (start, end) in parts.items()}
                rows.append({**row, "camera": image.camera if "camera" in by else None,
                             "images": 1})
        return rows

    async def detectors(self, span: Window, budget: int) -> tuple[Row, int, bool]:
        newest = sorted(self._in(span), key=lambda image: image.timestamp, reverse=True)
        seen: dict[str, int] = {}
        for image in newest[:budget]:
            for name in set(image.detectors):
                seen[name] = seen.get(name, 0) + 1
        return seen, min(len(newest), budget), len(newest) < budget

    async def reviewed(self, span: Window, **scope: Any) -> list[Row]:
        label, cameras, detector = scope["label"], scope["cameras"], scope["detector"]
        return [{"object_key": image.object_key, "camera": image.camera,
                 "present": self.reviews[(image.object_key, label)],
                 "sampled": (image.object_key, label) in self.sampled,
                 "confidence": image.confidence(label, detector)}
                for image in self._in(span, cameras, detector)
                if (image.object_key, label) in self.reviews]

    async def reviewed_images(self, span: Window, after: tuple[int, str] | None, limit: int,
                              **scope: Any) -> list[Row]:
        label, cameras = scope["label"], scope["cameras"]
        judged = sorted((image for image in self._in(span, cameras)
                         if (image.object_key, label) in self.reviews),
                        key=lambda image: (image.timestamp, image.object_key), reverse=True)
        return [{**image.row(), "present": self.reviews[(image.object_key, label)]}
                for image in judged
                if after is None or (image.timestamp, image.object_key) < after][:limit]

    async def reviewed_by_detector(self, span: Window, **scope: Any) -> list[Row]:
        label, cameras = scope["label"], scope["cameras"]
        return [{"object_key": image.object_key, "camera": image.camera,
                 "hour": local_hour(image.captured_at),
                 "present": self.reviews[(image.object_key, label)],
                 "detectors": list(image.detectors),
                 "confidences": {by: value for (name, by), value in image.labels.items()
                                 if name == label},
                 "versions": {by: image.versions.get(by, "1.0") for _, by in image.labels},
                 "silent": {by for by in image.detectors
                            if all(other != by for _, other in image.labels)}}
                for image in self._in(span, cameras) if (image.object_key, label) in self.reviews]

    async def alarms(self, span: Window, thresholds: Sequence[float], **scope: Any) -> list[Row]:
        label, cameras = scope["label"], scope["cameras"]
        rows: dict[tuple[str, str, float], Row] = {}
        for image in self._in(span, cameras):
            for (name, by), value in image.labels.items():
                for bar in thresholds:
                    if name == label and value >= bar:
                        row = rows.setdefault((image.camera, by, bar), {
                            "camera": image.camera, "detector": by, "threshold": bar,
                            "alarms": 0, "first_ts": image.timestamp,
                            "last_ts": image.timestamp})
                        row["alarms"] += 1
                        row["first_ts"] = min(row["first_ts"], image.timestamp)
                        row["last_ts"] = max(row["last_ts"], image.timestamp)
        return list(rows.values())

    async def reviewed_for_export(self, span: Window, **scope: Any) -> list[Row]:
        label, cameras, detector = scope["label"], scope["cameras"], scope["detector"]
        return [{"object_key": image.object_key, "bucket": None, "camera": image.camera,
                 "present": self.reviews[(image.object_key, label)], "reviewer": "fake",
                 "reviewed_at": "2026-01-01T00:00:00+00:00",
                 "labels": [{"detector": by, "confidence": value, "boxes": self.boxes.get(
                     (image.object_key, by))} for (name, by), value in image.labels.items()
                            if name == label and detector in (None, by)]}
                for image in sorted(self._in(span, cameras), key=lambda i: i.object_key)
                if (image.object_key, label) in self.reviews]
    async def sample_keys(self, span: Window, limit: int, **scope: Any) -> list[str]:
        label = scope["label"]
        return [image.object_key for image in self._in(span, scope["cameras"])
                if (image.object_key, label) not in self.sampled][:limit]

    async def images_by_keys(self, keys: Sequence[str]) -> list[Row]:
        return [image.row() for image in self.images if image.object_key in keys]

    async def review_queue(self, span: Window, after: tuple[float, int, str] | None,
                           limit: int, **scope: Any) -> list[Row]:
        """The queue's order: disagreements, then unlabelled, newest first; then the least
        confident (a disagreement counts once, in the first phase)."""
        label, cameras = scope["label"], scope["cameras"]
        threshold, thresholds = scope["threshold"], scope["thresholds"]

        def score(image: FakeImage) -> float:
            flagging = {by for (name, by), value in image.labels.items()
                        if name == label and value >= thresholds.get(by, threshold)}
            if flagging and len(flagging) < len(image.detectors):
                return DISAGREEMENT
            confidence = image.confidence(label)
            return UNLABELLED if confidence is None else confidence
        keyed = [((score(image), -image.timestamp, _descending(image.object_key)), image)
                 for image in self._in(span, cameras)
                 if (image.object_key, label) not in self.reviews]
        start = None if after is None else (after[0], -after[1], _descending(after[2]))
        rows = [{**image.row(), "score": key[0]} for key, image in sorted(keyed)
                if start is None or key > start]
        return rows[:limit]


def _descending(text: str) -> tuple[int, ...]:
    """A sort key ordering text backwards (newest-first pages tie-break by key, descending)."""
    return tuple(-ord(char) for char in text) + (1,)


class FakeVerdictGraph:
    """Review nodes in memory (newest wins, as the graph's), written into the FakeGraphReads
    they judge."""

    def __init__(self, reads: FakeGraphReads) -> None:
        self.reads = reads
        self.projected: list[StoredVerdict] = []  # every verdict asked to be projected
        self.shown: dict[tuple[str, str], StoredVerdict] = {}  # the Reviews
        self.fail_projection = False

    async def ensure_schema(self) -> None:
        return None

    async def image_exists(self, object_key: str) -> bool:
        return any(image.object_key == object_key for image in self.reads.images)

    async def was_sampled(self, object_key: str, label: str) -> bool:
        return any(verdict.sampled for verdict in self.projected
                   if (verdict.object_key, verdict.label) == (object_key, label))

    async def project(self, verdicts: list[StoredVerdict]) -> None:
        if self.fail_projection:
            raise ConnectionError("graph unreachable")
        for verdict in verdicts:
            self.projected.append(verdict)
            held = self.shown.get((verdict.object_key, verdict.label))
            if held is None or held.reviewed_at <= verdict.reviewed_at:
                self.show(verdict)

    def show(self, verdict: StoredVerdict) -> None:
        """A Review as the graph holds it (a graph from before the table: only there)."""
        self.shown[(verdict.object_key, verdict.label)] = verdict
        self.reads.reviews[(verdict.object_key, verdict.label)] = verdict.present
        if verdict.sampled:
            self.reads.sampled.add((verdict.object_key, verdict.label))

    async def images_existing(self, object_keys: list[str]) -> set[str]:
        return {image.object_key for image in self.reads.images} & set(object_keys)

    async def withdraw(self, withdrawals: list[Withdrawal]) -> None:
        if self.fail_projection:
            raise ConnectionError("graph unreachable")
        for undone, previous in withdrawals:
            key = (undone.object_key, undone.label)
            if key not in self.shown or self.shown[key].reviewed_at != undone.reviewed_at:
                continue
            if previous is None:
                del self.shown[key]
                self.reads.reviews.pop(key)
            else:
                self.show(previous)

    async def graph_verdicts(self, after: StoredVerdict | None, limit: int
                             ) -> list[StoredVerdict]:
        ordered = sorted(self.shown.values(), key=lambda v: review_key(v.object_key, v.label))
        start = "" if after is None else review_key(after.object_key, after.label)
        return [verdict for verdict in ordered
                if review_key(verdict.object_key, verdict.label) > start][:limit]

    async def reviews_of(self, judged: list[tuple[str, str]]) -> list[StoredVerdict]:
        return [self.shown[pair] for pair in judged if pair in self.shown]


class FakeVerdictStore:
    """The verdict table in memory: each image and label's history, newest in force."""

    def __init__(self) -> None:
        self.histories: dict[tuple[str, str], VerdictHistory] = {}

    @property
    def items(self) -> dict[tuple[str, str], StoredVerdict]:
        """The verdicts in force, by (object_key, label)."""
        return {key: history.current for key, history in self.histories.items()
                if history.current is not None}

    async def record(self, verdict: StoredVerdict) -> StoredVerdict:
        key = (verdict.object_key, verdict.label)
        held = self.histories.get(key, VerdictHistory(*key))
        self.histories[key] = held.with_verdict(verdict)
        current = self.histories[key].current
        assert current is not None
        return current

    async def undo(self, object_key: str, label: str, reviewed_at: str, undone_by: str,
                   undone_at: str) -> VerdictHistory | None:
        held = self.histories.get((object_key, label))
        if held is None:
            return None
        self.histories[(object_key, label)] = held.undo(reviewed_at, undone_by, undone_at)
        return self.histories[(object_key, label)]

    async def history(self, object_key: str) -> list[VerdictHistory]:
        return [history for (key, _), history in self.histories.items() if key == object_key]

    async def pages(self, size: int) -> AsyncIterator[list[VerdictHistory]]:
        histories = list(self.histories.values())
        for start in range(0, len(histories), size):
            yield histories[start:start + size]

    async def put_if_newer(self, verdicts: list[StoredVerdict]) -> int:
        taken = 0
        for verdict in verdicts:
            history = self.histories.get((verdict.object_key, verdict.label))
            held = self.items.get((verdict.object_key, verdict.label))
            if history is not None and history.holds(verdict):
                continue
            if held is None or held.reviewed_at < verdict.reviewed_at:
                await self.record(verdict)
                taken += 1
        return taken


class FakeLinks:
    """Links that say which image they point at."""

    def attach(self, image: Row) -> Row:
        return {**image, "url": f"https://images.invalid/{image['object_key']}"}


@dataclass
class FakeWorld:
    """The api's outside world faked, one twin per port."""

    reads: FakeGraphReads
    verdict_graph: FakeVerdictGraph
    store: FakeVerdictStore
    links: FakeLinks


def fake_world(images: Sequence[FakeImage] = ()) -> FakeWorld:
    reads = FakeGraphReads(images)
    world = FakeWorld(reads, FakeVerdictGraph(reads), FakeVerdictStore(), FakeLinks())
    # The handlers' ports, checked here since tests are not typed.
    _fits: tuple[GraphReads, VerdictGraph, VerdictStore, ImageLinks] = (
        world.reads, world.verdict_graph, world.store, world.links)
    return world
