"""Putting samples where the cameras would: a table per detector and the stub's rules
first, then the uploads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from labelgraph_contract import ImageLabeled, encode_event
from labelgraph_demo.samples import Sample, ground_truth, stub_rules
from labelgraph_provision import AwsClients, ProvisionSettings, provision_aws

GROUND_TRUTH_FILE = "ground-truth.json"


def provision_detectors(env: dict[str, str]) -> None:
    """A label table for each of env's LABELER_DETECTORS (the stack makes only the default's)."""
    provision_aws(ProvisionSettings.from_env(env), AwsClients.create(
        env["AWS_DEFAULT_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"],
        access_key_id=env["AWS_ACCESS_KEY_ID"], secret_access_key=env["AWS_SECRET_ACCESS_KEY"]))


def teach_stub(stub_url: str, samples: list[Sample]) -> None:
    """Tell the Rekognition stub what it 'sees' in each sample."""
    response = httpx.put(f"{stub_url}/_stub/rules", json=stub_rules(samples), timeout=10)
    response.raise_for_status()


def aws_client(env: dict[str, str], service: str) -> Any:
    """A boto3 client for one of the stack's AWS services, from the stack's environment."""
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    ).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


def upload(env: dict[str, str], samples: list[Sample]) -> None:
    """Upload each sample as a camera would; S3 notifies the labeler through SQS."""
    s3 = aws_client(env, "s3")
    for sample in samples:
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=sample.key, Body=sample.jpeg(),
                      ContentType="image/jpeg")


def write_ground_truth(path: Path, samples: list[Sample]) -> None:
    """Ship what a reviewer would say of each sample, for loading verdicts in one go."""
    path.write_text(json.dumps(ground_truth(samples), indent=1) + "\n")


def load_ground_truth(api_url: str, path: Path, api_key: str | None = None,
                      reviewer: str = "ground-truth") -> int:
    """Record every verdict of a ground-truth file through the api; returns how many."""
    verdicts = json.loads(path.read_text())
    headers = {"X-API-Key": api_key} if api_key else {}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        for verdict in verdicts:
            response = client.put("/verdicts", json={**verdict, "reviewer": reviewer})
            response.raise_for_status()
    return len(verdicts)


async def publish_events(bootstrap: str, topic: str, events: Iterable[ImageLabeled],
                         partitions: int) -> None:
    """Create a fresh topic and publish events on it as the labeler would (keyed, acks=all)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for event in events:
            record = encode_event(event)
            await producer.send(topic, record.value, key=record.key, headers=record.headers)
        await producer.flush()
    finally:
        await producer.stop()
