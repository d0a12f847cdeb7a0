"""One image through every real server: S3 -> SQS -> labeler -> DynamoDB + Kafka ->
graph-writer -> graph -> api."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from labelgraph_contract import ImageLabeled, decode_event
from labelgraph_demo.loading import upload
from labelgraph_demo.samples import PHOTOS, Sample, object_key, stub_rules
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, read_until_quiet

pytestmark = pytest.mark.stack




async def events_for(env: dict[str, str], key: str) -> list[ImageLabeled]:
    """Every event for `key` in the whole topic: every partition, read until it is quiet
    (a single poll may answer for some partitions only, and a copy would come later)."""
    records = await read_until_quiet(env["KAFKA_BOOTSTRAP_SERVERS"], env["LABEL_TOPIC"])
    return [decode_event(r.value) for r in records if r.key == key.encode()]


def test_an_uploaded_image_is_labelled_stored_published_graphed_and_served(stack, tmp_path):
    camera = f"cam{uuid.uuid4().hex[:6]}"
    captured = datetime(2016, 11, 5, 7, 15, 30, tzinfo=UTC)
    person = {"Name": "Person", "Confidence": 99.1, "Parents": [],
              "Instances": [{"BoundingBox": {"Width": 0.2, "Height": 0.5, "Left": 0.4,
                                             "Top": 0.3}, "Confidence": 99.1}]}
    bush = {"Name": "Plant", "Confidence": 77.5, "Parents": []}
    sample = Sample(object_key(camera, captured), camera, captured, PHOTOS / "astronaut.jpg",
                    True, [person, bush])
    env = stack.env

    api_key = uuid.uuid4().hex
    with ServiceProcesses(env, tmp_path / "logs", extra_env={"API_KEYS": api_key}) as services:
        # Prepended, not the demo's whole rules document: the stub is the session's, and
        # replacing its rules (and model version) broke the labeler tests that ran later.
        httpx.post(f"{env['REKOGNITION_STUB_URL']}/_stub/rules/prepend", timeout=10,
                   json={"rules": stub_rules([sample])["rules"]}).raise_for_status()
        upload(env, [sample])

        image = wait_for(lambda: _image_with_labels(services.api_url, sample.key, api_key))

    # The api serves the graph written by the graph-writer from the labeler's event.
    assert image["camera"] == camera
    assert [(label["name"], label["confidence"]) for label in image["labels"]] == [
        ("Person", 99.1), ("Plant", 77.5)]
    # The file name's stamp is read on the camera's clock (America/Los_Angeles, PDT here).
    assert image["captured_at"] == "2016-11-05T00:15:30-07:00"
    assert image["timestamp"] == int(captured.timestamp())

    # DynamoDB holds one row per label with the original attributes.
    rows = aws_client(env, "dynamodb").query(
        TableName=env["LABEL_TABLE"],
        KeyConditionExpression="object_key = :key",
        ExpressionAttributeValues={":key": {"S": sample.key}},
    )["Items"]
    assert sorted((row["label"]["S"], float(row["confidence"]["N"])) for row in rows) == [
        ("Person", 99.1), ("Plant", 77.5)]
    assert {row["capture_date"]["S"] for row in rows} == {"2016-11-05"}

    # The topic carries one event for it, valid against the contract.
    events = asyncio.run(events_for(env, sample.key))
    assert len(events) == 1
    assert events[0].camera == camera
    assert events[0].labels[0].instances[0].bounding_box.left == 0.4


def _image_with_labels(api_url: str, key: str, api_key: str) -> dict[str, Any] | None:
    response = httpx.get(f"{api_url}/images/{key}", headers={"X-API-Key": api_key}, timeout=5)
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body if body["labels"] else None
