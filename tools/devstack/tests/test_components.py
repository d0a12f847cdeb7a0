"""Each stand-in of the session stack answers over its real protocol."""

import asyncio
import io
import uuid

import boto3
import httpx
import neo4j
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from PIL import Image

from labelgraph_devstack import EmbeddedStack

pytestmark = pytest.mark.stack

REQUIRED = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "NEO4J_URI",
    "NEO4J_USER",
    "NEO4J_PASSWORD",
    "NEO4J_DATABASE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_REKOGNITION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "IMAGE_BUCKET",
    "IMAGE_QUEUE_NAME",
    "LABEL_TABLE",
    "VERDICT_TABLE",
    "LABEL_TOPIC",
    "LABEL_DLQ_TOPIC",
    "ARCADEDB_HTTP_URL",
    "REKOGNITION_STUB_URL",
}


def test_env_file_holds_what_the_services_need(stack: EmbeddedStack) -> None:
    lines = stack.env_file.read_text().splitlines()

    assert set(stack.env) == REQUIRED
    assert dict(line.split("=", 1) for line in lines) == stack.env
    assert stack.env["NEO4J_URI"].startswith("bolt://127.0.0.1:")


def test_the_label_topic_carries_a_message(stack: EmbeddedStack) -> None:
    env = stack.env
    key = uuid.uuid4().hex.encode()

    async def round_trip() -> tuple[bytes | None, bytes | None]:
        producer = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait(env["LABEL_TOPIC"], b"hello", key=key)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
        await consumer.start()
        try:
            partition = TopicPartition(sent.topic, sent.partition)
            consumer.assign([partition])
            consumer.seek(partition, sent.offset)
            record = await asyncio.wait_for(consumer.getone(), timeout=10)
        finally:
            await consumer.stop()
        return record.key, record.value

    assert asyncio.run(round_trip()) == (key, b"hello")


def test_the_graph_stores_and_matches_a_node(stack: EmbeddedStack) -> None:
    env = stack.env
    camera = uuid.uuid4().hex
    auth = (env["NEO4J_USER"], env["NEO4J_PASSWORD"])

    with neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver:
        driver.execute_query("CREATE (:Camera {id: $id})", id=camera)
        records, _, _ = driver.execute_query(
            "MATCH (c:Camera {id: $id}) RETURN c.id AS id", id=camera
        )

    assert [r["id"] for r in records] == [camera]


def test_the_stub_labels_an_image_read_from_moto(stack_env: dict[str, str]) -> None:
    bucket, key = stack_env["IMAGE_BUCKET"], f"test/{uuid.uuid4().hex}.jpg"
    image = io.BytesIO()
    Image.new("RGB", (32, 32), "gray").save(image, "JPEG")
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=image.getvalue())
    # A rule for this key alone (the stub is shared by the session): what it must answer.
    taught = [{"Name": "Heron", "Confidence": 87.5, "Parents": [{"Name": "Bird"}]}]
    httpx.post(f"{stack_env['REKOGNITION_STUB_URL']}/_stub/rules/prepend", timeout=10, json={
        "rules": [{"match": {"bucket": bucket, "key_glob": key}, "labels": taught}]}
    ).raise_for_status()

    # AWS_ENDPOINT_URL_REKOGNITION sends this client to the stub, the rest to moto.
    response = boto3.client("rekognition").detect_labels(
        Image={"S3Object": {"Bucket": bucket, "Name": key}}
    )

    # The stub read the object from moto (a missing one is an error) and matched its key.
    assert [(label["Name"], label["Confidence"], label["Parents"])
            for label in response["Labels"]] == [("Heron", 87.5, [{"Name": "Bird"}])]
