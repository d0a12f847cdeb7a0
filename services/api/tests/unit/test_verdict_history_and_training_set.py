"""The plain logic of issue 25: a verdict's history and undo, the training export's plan."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from labelgraph_api.domain import StoredVerdict
from labelgraph_api.training_set import plan, sized, yolo_labels
from labelgraph_api.verdict_history import (
    HISTORY_MAX,
    GraphFix,
    NotTheLatest,
    VerdictHistory,
    VerdictNotFound,
    graph_fix,
)


def verdict(at: str, present: bool = True, reviewer: str = "ann") -> StoredVerdict:
    return StoredVerdict("k", "Person", present, reviewer, at)


def test_a_late_older_verdict_joins_the_history_but_the_newest_stays_in_force():
    history = VerdictHistory("k", "Person").with_verdict(verdict("2")).with_verdict(
        verdict("1", False, "bob"))
    assert [entry.reviewer for entry in history.entries] == ["bob", "ann"]
    assert history.current == verdict("2")


def test_undo_brings_back_the_previous_verdict_and_only_the_latest_can_be_undone():
    history = VerdictHistory("k", "Person").with_verdict(verdict("1")).with_verdict(
        verdict("2", False, "bob"))
    with pytest.raises(NotTheLatest):
        history.undo("1", "ann", "3")
    with pytest.raises(VerdictNotFound):
        history.undo("9", "ann", "3")
    undone = history.undo("2", "bob", "3")
    assert undone.current == verdict("1")
    assert undone.undo("2", "bob", "4") == undone  # again: nothing changes
    assert undone.undo("1", "ann", "5").current is None


def test_the_history_is_bounded_and_gives_up_undone_verdicts_first():
    history = VerdictHistory("k", "Person").with_verdict(verdict("0000"))
    for index in range(1, HISTORY_MAX + 5):
        history = history.with_verdict(verdict(f"{index:04d}"))
        history = history.undo(f"{index:04d}", "ann", "x")
    assert len(history.entries) == HISTORY_MAX
    assert history.current == verdict("0000")


def test_the_graph_gets_the_verdict_in_force_for_an_undone_one_and_none_for_one_unseen():
    judged = VerdictHistory("k", "Person").with_verdict(verdict("1")).with_verdict(
        verdict("2", False, "bob"))
    undone = judged.undo("2", "bob", "3")
    none_left = undone.undo("1", "ann", "4")
    assert graph_fix(undone, verdict("2", False, "bob")) == GraphFix(
        verdict("1"), undone=verdict("2", False, "bob"))
    assert graph_fix(none_left, verdict("1")) == GraphFix(None, undone=verdict("1"))
    assert graph_fix(judged, verdict("2", False, "bob")) is None  # shows the one in force
    assert graph_fix(judged, None) == GraphFix(verdict("2", False, "bob"))  # lost
    assert graph_fix(judged, verdict("1")) == GraphFix(verdict("2", False, "bob"))  # older
    assert graph_fix(none_left, None) is None
    # Never given here: an older one gives way, a newer one is the adopter's to take.
    assert graph_fix(judged, verdict("0", reviewer="old")) == GraphFix(
        verdict("2", False, "bob"))
    assert graph_fix(judged, verdict("9", reviewer="old")) is None
    assert graph_fix(none_left, verdict("0", reviewer="old")) is None


def row(key: str, present: bool, boxes: dict[str, str | None]) -> dict[str, object]:
    return {"object_key": key, "bucket": None, "camera": "c", "present": present,
            "reviewer": "ann", "reviewed_at": "t",
            "labels": [{"detector": name, "confidence": 50.0 + index, "boxes": text}
                       for index, (name, text) in enumerate(boxes.items())]}


def test_the_plan_takes_the_most_confident_located_boxes_and_leaves_out_unboxed_positives():
    export = plan("Person", [
        row("../../etc/passwd", True, {"a": "[[0.1,0.2,0.3,0.4,90]]",
                                       "b": "[[0.5,0.5,0.1,0.1,80],[0,0,0.1,0.1,70]]"}),
        row("unboxed", True, {"a": None}), row("empty", False, {"a": "[[0,0,1,1,50]]"})])
    assert (export.positives, export.negatives, export.unboxed) == (1, 1, 1)
    positive, negative = export.items
    assert positive.detector == "b" and len(positive.boxes) == 2
    assert "/" not in positive.stem and "passwd" not in positive.stem
    assert negative.boxes == () and yolo_labels(negative) == ""
    assert yolo_labels(positive).splitlines()[0] == "0 0.550000 0.550000 0.100000 0.100000"


def test_an_image_size_is_read_off_its_first_bytes_and_every_byte_still_follows():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, "JPEG")
    data = buffer.getvalue()
    found = sized(iter([data[i:i + 100] for i in range(0, len(data), 100)]))
    assert found is not None and (found.width, found.height, found.extension) == (64, 48, ".jpg")
    assert b"".join(found.chunks) == data
    assert sized(iter([b"not an image"])) is None
