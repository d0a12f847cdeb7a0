"""Row mapping and backfill planning: pure functions, no stack."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from labelgraph_contract import DetectedLabel
from labelgraph_labeler.adapters.dynamodb import item
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN
from labelgraph_labeler.domain import Detection, KeyLayout, StoredImage, labelling_event
from labelgraph_labeler.rows import (
    NO_LABELS,
    Checkpoint,
    batches,
    days_to_read,
    event_from_rows,
    label_rows,
    ticks,
)

LAYOUT = KeyLayout.from_settings(DEFAULT_KEY_PATTERN, "America/Los_Angeles")


def event(key: str, labels: list[DetectedLabel], model: str = "3.0",
          labeled_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)):
    image = StoredImage("security-alarms", key, "etag", datetime(2020, 1, 1, tzinfo=UTC))
    return labelling_event(image, Detection(labels, model), camera="frontdoor",
                           captured_at=LAYOUT.captured_at(image), detector="aws-rekognition",
                           parameters={}, labeled_at=labeled_at)


def key(stamp: str, name: str = "img") -> str:
    return f"alarms/frontdoor/2016-11-05/07/{name}_{stamp}.jpg"


def test_rows_rebuild_the_exact_event_whatever_their_order():
    original = event(key("20161105-071530"), [
        DetectedLabel(name="Person", confidence=99.1, parents=["Human"],
                      instances=[{"bounding_box": {"width": .2, "height": .5, "left": .4,
                                                   "top": .3}, "confidence": 98.7}]),
        DetectedLabel(name="Plant", confidence=77.5)])
    assert event_from_rows(reversed(label_rows(original))) == original


def test_an_image_without_labels_keeps_one_marker_row_and_rebuilds_empty():
    original = event(key("20161105-071530"), [])
    [row] = label_rows(original)
    assert row["label"] == NO_LABELS
    assert event_from_rows([row]) == original


def test_a_label_literally_named_like_the_old_marker_is_a_label_not_a_marker():
    original = event(key("20161105-071530"), [DetectedLabel(name="#no-labels", confidence=88)])
    [row] = label_rows(original)
    assert row["label"] == "#no-labels" and row["label"] != NO_LABELS
    assert event_from_rows([row]) == original


def test_the_marker_is_a_name_the_contract_refuses_so_no_label_can_take_its_row():
    with pytest.raises(ValueError):
        DetectedLabel(name=NO_LABELS, confidence=50)


def test_tables_written_with_the_old_marker_still_read_as_zero_labels():
    original = event(key("20161105-071530"), [])
    [row] = label_rows(original)
    old = {**row, "label": "#no-labels"}  # written before the marker changed: no confidence
    assert event_from_rows([old]) == original
    as_label = {**old, "confidence": Decimal("88"), "parents": [], "instances_json": "[]"}
    assert [label.name for label in event_from_rows([as_label]).labels] == ["#no-labels"]


def test_rows_go_to_the_table_in_the_wire_form_boto3s_serializer_gives_them():
    # The table adapter converts rows itself (the resource layer's conversion was the
    # labeler's largest cost); tables written either way must hold the same items.
    labelled = event(key("20161105-071530"), [
        DetectedLabel(name="Person", confidence=99.123456789, parents=["Human", "Body"],
                      instances=[{"bounding_box": {"width": .2, "height": .5, "left": .4,
                                                   "top": .3}, "confidence": 98.7}]),
        DetectedLabel(name="Plant", confidence=77.5)])
    serializer = TypeSerializer()
    for row in [*label_rows(labelled), *label_rows(event(key("20161105-071530"), []))]:
        assert item(row) == {name: serializer.serialize(value) for name, value in row.items()}


def test_rows_of_an_older_labelling_are_ignored_when_rebuilding():
    older = event(key("20161105-071530"), [DetectedLabel(name="Car", confidence=60)])
    newer = event(key("20161105-071530"), [DetectedLabel(name="Cat", confidence=70)], "4.0",
                  datetime(2026, 2, 1, tzinfo=UTC))
    assert event_from_rows(label_rows(older) + label_rows(newer)) == newer


def test_rows_of_an_earlier_write_of_the_same_labelling_are_ignored_when_rebuilding():
    # The same event_id written twice (a first delivery writes without reading the rows it
    # would replace): a label only the earlier write held is not part of the image.
    earlier = event(key("20161105-071530"), [DetectedLabel(name="Car", confidence=60),
                                             DetectedLabel(name="Cat", confidence=40)])
    later = event(key("20161105-071530"), [DetectedLabel(name="Car", confidence=61)],
                  labeled_at=datetime(2026, 1, 2, tzinfo=UTC))
    assert earlier.event_id == later.event_id
    left = [row for row in label_rows(earlier) if row["label"] == "Cat"]  # Car rewritten
    assert event_from_rows(left + label_rows(later)) == later


def test_ticks_group_a_seconds_rows_by_image_and_batches_never_split_a_tick():
    a1, a2 = event(key("20161105-071530", "a"), []), event(key("20161105-071530", "b"), [])
    b = event(key("20161105-071531"), [DetectedLabel(name="Dog", confidence=50)])
    rows = [*label_rows(a2), *label_rows(a1), *label_rows(b)]
    grouped = list(ticks(rows))
    assert [(t.event_ts, [e.object_key for e in t.events]) for t in grouped] == [
        (a1.event_ts, [a1.object_key, a2.object_key]), (b.event_ts, [b.object_key])]
    planned = list(batches(grouped, size=1))
    assert [(len(batch.events), batch.reached) for batch in planned] == [
        (2, Checkpoint(a1.capture_date, a1.event_ts)), (1, Checkpoint(b.capture_date,
                                                                      b.event_ts))]


def test_rows_that_make_no_valid_event_are_refused_by_name_and_the_rest_go_on():
    good = event(key("20161105-071530", "good"), [DetectedLabel(name="Dog", confidence=50)])
    bad = event(key("20161105-071530", "bad"), [DetectedLabel(name="Dog", confidence=50)])
    broken = [{**row, "confidence": Decimal("150")} for row in label_rows(bad)]
    [tick] = ticks([*label_rows(good), *broken])
    assert tick.events == [good]
    [(refused, why)] = tick.refused
    assert refused == bad.object_key and "confidence" in why
    [batch] = batches([tick], size=1)
    assert batch.refused == tick.refused and batch.reached.event_ts == good.event_ts


def test_days_resume_after_the_checkpoint_second_on_its_day_only():
    first = date(2016, 11, 5)
    mark = Checkpoint(first, 1478355330)
    assert list(days_to_read(first, first + timedelta(days=2), mark)) == [
        (first, 1478355330), (first + timedelta(days=1), None),
        (first + timedelta(days=2), None)]
    assert Checkpoint.from_json(mark.to_json()) == mark
