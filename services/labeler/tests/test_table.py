"""The label table adapter against moto's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from labelgraph_contract import DetectedLabel
from labelgraph_labeler.adapters.dynamodb import DynamoDBLabelTable
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN
from labelgraph_labeler.domain import (
    Detection,
    ImageRejected,
    KeyLayout,
    StoredImage,
    labelling_event,
)
from labelgraph_labeler.rows import event_from_rows, label_rows

pytestmark = pytest.mark.stack

LAYOUT = KeyLayout.from_settings(DEFAULT_KEY_PATTERN, "America/Los_Angeles")


def event_for(key: str, labels: list[DetectedLabel], model: str = "3.0"):
    image = StoredImage("security-alarms", key, "etag", datetime(2020, 1, 1, tzinfo=UTC))
    return labelling_event(image, Detection(labels, model), camera="frontdoor",
                           captured_at=LAYOUT.captured_at(image), detector="aws-rekognition",
                           parameters={}, labeled_at=datetime.now(UTC))


@pytest.fixture
def table(lane):
    client = boto3.session.Session().client("dynamodb")
    sizes: list[int] = []
    queries: list[str] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **_: sizes.append(sum(len(v) for v in params["RequestItems"].values())))
    client.meta.events.register("provide-client-params.dynamodb.Query",
                                lambda params, **_: queries.append(params["TableName"]))
    adapter = DynamoDBLabelTable(client, lane.table)
    adapter.batch_sizes, adapter.queries = sizes, queries
    return adapter


def test_rows_are_written_in_batches_of_at_most_25(lane, table):
    key = lane.key()
    event = event_for(key, [DetectedLabel(name=f"Thing {i:02d}", confidence=40 + i / 2)
                            for i in range(60)])
    table.replace_rows(key, label_rows(event))
    assert len(lane.rows(key)) == 60
    assert table.batch_sizes == [25, 25, 10]


def test_rewriting_replaces_the_rows_without_duplicates_or_stale_labels(lane, table):
    key = lane.key()
    first = event_for(key, [DetectedLabel(name=n, confidence=c) for n, c in
                            (("Plant", 80), ("Car", 70), ("Person", 99))])
    table.replace_rows(key, label_rows(first))
    table.replace_rows(key, label_rows(first))  # a redelivery rewrites the same rows
    assert sorted(r["label"] for r in lane.rows(key)) == ["Car", "Person", "Plant"]

    newer = event_for(key, [DetectedLabel(name="Person", confidence=98.5)], model="4.0")
    table.replace_rows(key, label_rows(newer))
    rows = lane.rows(key)
    assert [(r["label"], r["model_version"]) for r in rows] == [("Person", "4.0")]
    assert event_from_rows(rows) == newer


def test_a_first_write_is_one_round_trip_with_no_read(lane, table):
    key = lane.key()
    event = event_for(key, [DetectedLabel(name=n, confidence=c) for n, c in
                            (("Plant", 80), ("Car", 70), ("Person", 99))])
    table.replace_rows(key, label_rows(event), first_write=True)
    assert (table.queries, table.batch_sizes) == ([], [3])
    assert event_from_rows(lane.rows(key)) == event


def test_rows_read_back_through_the_index_rebuild_the_exact_event(lane, table):
    key = lane.key()
    event = event_for(key, [DetectedLabel(name="Person", confidence=99.123456789,
                                          parents=["Human"])])
    table.replace_rows(key, label_rows(event))
    rows = table.rows_of_day(event.capture_date, None)
    assert event_from_rows(rows) == event
    assert table.rows_of_day(event.capture_date, event.event_ts) == []
    assert table.earliest_capture_date() == event.capture_date


def test_a_row_the_table_refuses_is_a_permanent_rejection_with_nothing_written(lane, table):
    key = lane.key()
    event = event_for(key, [DetectedLabel(name="Person", confidence=97)])
    [row] = label_rows(event)
    too_long = {**row, "label": "é" * 550}  # 1,100 bytes: DynamoDB's sort key holds 1,024
    with pytest.raises(ImageRejected) as refused:
        table.replace_rows(key, [row, too_long])
    assert refused.value.reason == "table_rejected"
    assert lane.rows(key) == []


def test_an_item_the_table_refuses_on_its_own_is_a_permanent_rejection(lane, table):
    key = lane.key()
    [row] = label_rows(event_for(key, [DetectedLabel(name="Person", confidence=97)]))
    with pytest.raises(ImageRejected) as refused:
        table.replace_rows(key, [{**row, "instances_json": "x" * 500_000}])  # 400 KB at most
    assert refused.value.reason == "table_rejected"
    assert lane.rows(key) == []
