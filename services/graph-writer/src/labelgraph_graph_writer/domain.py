"""How a batch of ImageLabeled events becomes graph writes: plain data, no database.

The graph keeps, per image, the version of each detector's latest labelling it holds
(`detectors` and `detector_versions`, parallel lists on the Image node). A labelling is
written only when its version is newer than the one held, so replays, duplicates and
out-of-order events leave the graph exactly as the newest labelling per detector made it.
Versions are compared as (milliseconds, event id) pairs, never as their stored text: the
text of a time before 1970 ("-000000001000|...") sorts the wrong way round.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelgraph_contract import DetectedLabel, ImageLabeled
from labelgraph_graph_writer.tallies import TALLY_VERSION, ImageFacts, changes

Row = dict[str, Any]

Version = tuple[int, str]
"""A labelling's version: labelling time in epoch milliseconds, then event id."""

# What a stored version this writer cannot read counts as: older than any labelling.
OLDEST: Version = (-(2**63), "")


@dataclass(frozen=True)
class ImageState:
    """What the graph already holds for one image (read in the write's transaction)."""

    isodate: str
    versions: Mapping[str, Version]  # detector -> version of the labelling held
    camera: str = ""
    labels: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # detector -> label -> confidence: the edges held, which the tallies count
    tallied: bool = True  # False: written before tallies, so counted in none yet

    def facts(self) -> ImageFacts | None:
        """What the image counts in the tallies as; None for an image not yet linked or
        not yet counted."""
        if not self.camera or not self.isodate or not self.tallied:
            return None
        return ImageFacts(self.camera, self.isodate, tuple(sorted(self.versions)), self.labels)


@dataclass
class BatchPlan:
    """Everything one transaction writes, grouped by statement."""

    shared: dict[str, list[Any]] = field(default_factory=dict)
    images: list[Row] = field(default_factory=list)
    unlink: list[str] = field(default_factory=list)
    link: list[Row] = field(default_factory=list)
    replace: list[Row] = field(default_factory=list)
    label_rows: list[Row] = field(default_factory=list)
    label_counts: list[Row] = field(default_factory=list)  # label -> change of its edges
    tallies: list[Row] = field(default_factory=list)
    after: dict[str, ImageState] = field(default_factory=dict)
    written: int = 0
    stale: int = 0
    excluded: int = 0


def version(event: ImageLabeled) -> Version:
    """Orders labellings of one image by one detector: labelling time, then event id."""
    # The same milliseconds as every release has stored, so replays of old labellings are
    # recognised as such.
    return int(event.labeled_at.timestamp() * 1000), event.event_id


def encode_version(held: Version) -> str:
    """The stored form of a version (unchanged since the first release)."""
    millis, event_id = held
    return f"{millis:015d}|{event_id}"


def decode_version(text: str | None) -> Version:
    """A stored version read back; one not of encode_version's form counts as OLDEST."""
    millis, separator, event_id = (text or "").partition("|")
    try:
        return (int(millis), event_id) if separator else OLDEST
    except ValueError:
        return OLDEST


def newest_per_detector(events: Iterable[ImageLabeled]) -> list[ImageLabeled]:
    """The newest event per (image, detector) of a batch; the rest can change nothing."""
    newest: dict[tuple[str, str], ImageLabeled] = {}
    for event in events:
        key = (event.object_key, event.detector)
        if key not in newest or version(event) > version(newest[key]):
            newest[key] = event
    return list(newest.values())


def plan_batch(events: Iterable[ImageLabeled], held: Mapping[str, ImageState],
               excluded_cameras: frozenset[str] = frozenset()) -> BatchPlan:
    """The writes that bring the graph from `held` to the newest labellings of `events`."""
    plan = BatchPlan()
    kept = []
    for event in events:
        if event.camera in excluded_cameras:
            plan.excluded += 1
        else:
            kept.append(event)
    newest = newest_per_detector(kept)
    plan.stale = len(kept) - len(newest)
    versions = {key: dict(state.versions) for key, state in held.items()}
    applied: dict[str, ImageLabeled] = {}
    edges = {key: {detector: dict(labels) for detector, labels in state.labels.items()}
             for key, state in held.items()}
    for event in sorted(newest, key=version):
        held_versions = versions.setdefault(event.object_key, {})
        if version(event) <= held_versions.get(event.detector, OLDEST):
            plan.stale += 1
            continue
        held_versions[event.detector] = version(event)
        applied[event.object_key] = event  # sorted: the newest labelling describes the image
        labels = _add_labelling(plan, event, replace=event.object_key in held)
        edges.setdefault(event.object_key, {})[event.detector] = labels
    for key, event in applied.items():
        plan.after[key] = _add_image(plan, event, held.get(key), versions[key], edges[key])
    plan.shared = _shared_nodes(applied.values(), plan.label_rows)
    plan.tallies = _tally_changes(held, plan.after)
    plan.label_counts = _label_count_changes(held, plan.after)
    return plan


def edges_per_label(labels: Mapping[str, Mapping[str, float]]) -> Counter[str]:
    """How many HAS_LABEL edges an image's labels (detector -> label -> confidence) make
    to each label: one per detector that found it."""
    return Counter(name for by_label in labels.values() for name in by_label)


def _label_count_changes(held: Mapping[str, ImageState], after: Mapping[str, ImageState]
                         ) -> list[Row]:
    """What the batch's writes change in each label's edge count: the touched images'
    edges after minus those before (every edge held, counted in the tallies or not), a row
    per label whose count changes, by name (the order the writers lock labels in)."""
    change: Counter[str] = Counter()
    for key, state in after.items():
        change.update(edges_per_label(state.labels))
        if key in held:
            change.subtract(edges_per_label(held[key].labels))
    return [{"label": name, "delta": delta} for name, delta in sorted(change.items()) if delta]


def _tally_changes(held: Mapping[str, ImageState], after: Mapping[str, ImageState]
                   ) -> list[Row]:
    """What the batch's writes change in the tallies: each touched image's counts after
    minus its counts before (read in the same transaction)."""
    before = [held[key].facts() for key in after if key in held]
    now = [state.facts() for state in after.values()]
    return changes([facts for facts in before if facts], [facts for facts in now if facts])


def _add_image(plan: BatchPlan, event: ImageLabeled, state: ImageState | None,
               versions: Mapping[str, Version], labels: Mapping[str, Mapping[str, float]]
               ) -> ImageState:
    """Plans the image's node and links; returns what the image holds after them."""
    row = image_row(event)
    detectors = sorted(versions)
    held_by = {"detectors": detectors,
               "detector_versions": [encode_version(versions[d]) for d in detectors],
               "tally_version": TALLY_VERSION}
    if version(event) < max(versions.values()):
        # Another detector labelled the image later: its labelling describes the image.
        plan.images.append({**row, "props": held_by})
        assert state is not None, "a later labelling of the image is held"
        return ImageState(state.isodate, versions, state.camera, labels)
    row["props"] |= held_by
    plan.images.append(row)
    isodate, camera = row["props"]["isodate"], event.camera
    if state is None or state.isodate != isodate:
        if state is not None:
            plan.unlink.append(event.object_key)
        plan.link.append(row)
    else:  # links kept as they are: so is the camera (its HAS_IMAGE edge)
        camera = state.camera
    return ImageState(isodate, versions, camera, labels)


def _add_labelling(plan: BatchPlan, event: ImageLabeled, replace: bool) -> dict[str, float]:
    """Plans the labelling's edges; returns label -> confidence, as the edges hold them."""
    plan.written += 1
    if replace:
        plan.replace.append({"object_key": event.object_key, "detector": event.detector})
    strongest: dict[str, DetectedLabel] = {}
    for label in event.labels:  # a name listed twice keeps its most confident entry
        held = strongest.get(label.name)
        if held is None or label.confidence > held.confidence:
            strongest[label.name] = label
    labeled_at = event.labeled_at.isoformat()  # once an event, not once a label
    for name, label in strongest.items():
        plan.label_rows.append({
            "object_key": event.object_key, "label": name, "props": {
                "confidence": label.confidence, "detector": event.detector,
                "model_version": event.model_version, "event_id": event.event_id,
                "labeled_at": labeled_at, "boxes": boxes(label)}})
    return {name: label.confidence for name, label in strongest.items()}


def boxes(label: DetectedLabel) -> str:
    """The label's instances as one JSON string property of its HAS_LABEL edge.

    A property cannot hold a list of maps, and the pages only draw them: as JSON, a list
    of [left, top, width, height, confidence] in Rekognition's normalised form. The
    contract bounds it (at most 100 instances a label).
    """
    if not label.instances:  # most labels have no box: skip building an encoder for "[]"
        return "[]"
    return json.dumps([[round(value, 4) for value in (
        instance.bounding_box.left, instance.bounding_box.top, instance.bounding_box.width,
        instance.bounding_box.height, instance.confidence)] for instance in label.instances],
        separators=(",", ":"))


def image_row(event: ImageLabeled) -> Row:
    """The parameters of one image: its properties and the keys of the nodes it links to."""
    captured = event.captured_at
    return {
        "object_key": event.object_key,
        "camera": event.camera,
        "iso_date": event.capture_date.isoformat(),
        "year": captured.year,
        "month": captured.month,
        "day": captured.day,
        "hour": captured.hour,
        "timestamp": event.event_ts,
        "props": {
            "isodate": captured.isoformat(),
            "timestamp": event.event_ts,
            "bucket": event.bucket,
            "labeled_at": event.labeled_at.isoformat(),
        },
    }


def _shared_nodes(events: Iterable[ImageLabeled], label_rows: list[Row]) -> dict[str, list[Any]]:
    rows = [image_row(event) for event in events]
    return {
        "cameras": sorted({row["camera"] for row in rows}),
        "labels": sorted({row["label"] for row in label_rows}),
        "iso_dates": sorted({row["iso_date"] for row in rows}),
        "years": sorted({row["year"] for row in rows}),
        "months": sorted({row["month"] for row in rows}),
        "days": sorted({row["day"] for row in rows}),
        "hours": sorted({row["hour"] for row in rows}),
    }
