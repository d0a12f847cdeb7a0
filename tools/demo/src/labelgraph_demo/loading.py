"""Putting samples where the cameras would: a table per detector and the stub's rules
first, then the uploads."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from labelgraph_demo.samples import LEFT_FOR_YOU, Sample, ground_truth, stub_rules, to_record
from labelgraph_devstack.clients import aws_client, aws_clients
from labelgraph_provision import ProvisionSettings, provision_aws

GROUND_TRUTH_FILE = "ground-truth.json"


def provision_detectors(env: dict[str, str]) -> None:
    """A label table for each of env's LABELER_DETECTORS (the stack makes only the default's)."""
    provision_aws(ProvisionSettings.from_env(env), aws_clients(env))


def teach_stub(stub_url: str, samples: list[Sample]) -> None:
    """Tell the Rekognition stub what it 'sees' in each sample."""
    response = httpx.put(f"{stub_url}/_stub/rules", json=stub_rules(samples), timeout=10)
    response.raise_for_status()


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
                      reviewer: str = "ground-truth",
                      leave_camera: str | None = LEFT_FOR_YOU) -> int:
    """Record the verdicts of a ground-truth file through the api, but those of
    `leave_camera`'s images (None: every one); returns how many."""
    verdicts = to_record(json.loads(path.read_text()), leave_camera)
    headers = {"X-API-Key": api_key} if api_key else {}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        for verdict in verdicts:
            response = client.put("/verdicts", json={**verdict, "reviewer": reviewer})
            response.raise_for_status()
    return len(verdicts)
