"""Provisioning against the real stand-ins, under random names so runs never collide."""

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import unquote_plus

import boto3
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from labelgraph_kafka import kafka_client_options
from labelgraph_provision import (
    CAPTURE_DATE_INDEX,
    ProvisionError,
    ProvisionReport,
    ProvisionSettings,
    Status,
    provision,
)

pytestmark = pytest.mark.stack


@pytest.fixture
def first_run(settings: ProvisionSettings) -> Iterator[ProvisionReport]:
    # No endpoint passed: boto3 finds moto through AWS_ENDPOINT_URL, as in production.
    yield provision(settings)


def test_first_run_creates_everything(first_run: ProvisionReport) -> None:
    assert [str(o) for o in first_run.created] == [str(o) for o in first_run.outcomes]
    assert len(first_run.outcomes) == 8


def test_second_run_finds_everything_and_changes_nothing(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    second = provision(settings)

    assert not second.changed
    assert [(o.kind, o.name) for o in second.existed] == [
        (o.kind, o.name) for o in first_run.outcomes
    ]


def test_drifted_queue_attributes_are_put_back(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.image_queue_name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})

    report = provision(settings)

    assert [str(o) for o in report.updated] == [f"updated queue {settings.image_queue_name}"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "60"


def test_upload_queue_redrives_to_its_dead_letter_queue(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.image_queue_name)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=settings.image_dlq_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "60"


def test_an_uploaded_image_is_announced_on_the_queue(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.image_queue_name)["QueueUrl"]
    key = "cam-1/2026-11-25/12:00:00 front door.jpg"

    s3.put_object(Bucket=settings.image_bucket, Key=key, Body=b"not really a jpeg")

    bodies = [json.loads(m["Body"]) for m in _receive(sqs, url, count=2)]
    assert bodies[0]["Event"] == "s3:TestEvent"
    record = bodies[1]["Records"][0]
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == settings.image_bucket
    assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_each_configured_detector_gets_its_own_label_table(
    settings: ProvisionSettings,
) -> None:
    several = replace(settings, detectors=("aws-rekognition", "ssd-mobilenet-v2-coco"))

    report = provision(several)

    tables = [o.name for o in report.created if o.kind == "table"]
    assert tables == [settings.label_table, f"{settings.label_table}.ssd-mobilenet-v2-coco",
                      settings.verdict_table]
    local = boto3.client("dynamodb").describe_table(TableName=tables[1])["Table"]
    assert [k["AttributeName"] for k in local["KeySchema"]] == ["object_key", "label"]
    assert [i["IndexName"] for i in local["GlobalSecondaryIndexes"]] == [CAPTURE_DATE_INDEX]
    assert not provision(several).changed


def test_label_table_has_its_keys_and_day_index(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=settings.label_table)["Table"]

    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("object_key", "HASH"),
        ("label", "RANGE"),
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"object_key": "S", "label": "S", "capture_date": "S", "event_ts": "N"}
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == CAPTURE_DATE_INDEX
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("capture_date", "HASH"),
        ("event_ts", "RANGE"),
    ]
    assert index["Projection"]["ProjectionType"] == "ALL"


def test_verdict_table_has_one_item_per_image_and_label(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=settings.verdict_table)["Table"]

    assert table["TableStatus"] == "ACTIVE"
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("object_key", "HASH"),
        ("label", "RANGE"),
    ]
    assert not table.get("GlobalSecondaryIndexes")


def test_topics_have_their_partitions(
    settings: ProvisionSettings, first_run: ProvisionReport
) -> None:
    async def partitions() -> dict[str, int]:
        admin = AIOKafkaAdminClient(**kafka_client_options(settings.kafka))
        await admin.start()
        try:
            topics = await admin.describe_topics([settings.label_topic, settings.label_dlq_topic])
            return {t["topic"]: len(t["partitions"]) for t in topics}
        finally:
            await admin.close()

    assert asyncio.run(partitions()) == {settings.label_topic: 6, settings.label_dlq_topic: 3}
    assert {o.name for o in first_run.outcomes if o.kind == "topic"} == {
        settings.label_topic,
        settings.label_dlq_topic,
    }
    assert all(o.status is Status.CREATED for o in first_run.outcomes)


def test_a_same_named_table_with_other_keys_is_refused(settings: ProvisionSettings) -> None:
    boto3.client("dynamodb").create_table(
        TableName=settings.label_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )

    with pytest.raises(ProvisionError, match=f"table {settings.label_table} exists with key"):
        provision(settings)


def _receive(sqs: object, url: str, count: int) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for _ in range(10):
        batch = sqs.receive_message(  # type: ignore[attr-defined]
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        messages += batch
        if len(messages) >= count:
            return messages
    raise AssertionError(f"only {len(messages)} of {count} messages arrived")
