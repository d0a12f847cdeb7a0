"""Each image's HEALTHCHECK command, run exactly as Docker would run it (with the image's
ENV), against its service started with that ENV on the embedded stack: the probe passes
once the service is ready and fails once it is gone, so `up --wait` means usable."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port
from labelgraph_kafka import KafkaSettings
from labelgraph_provision.kafka import ensure_topics
from labelgraph_provision.settings import ProvisionSettings

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")
# The variable carrying each image's listening address and port (set by its Dockerfile).
LISTEN = {
    "labeler": ("LABELER_OPS_HOST", "LABELER_OPS_PORT"),
    "graph-writer": ("GRAPH_WRITER_OPS_HOST", "GRAPH_WRITER_OPS_PORT"),
    "api": ("API_HOST", "API_PORT"),
    "rekognition-stub": ("REKOGNITION_STUB_HOST", "REKOGNITION_STUB_PORT"),
}


def image_env(stage) -> dict[str, str]:
    """The image's ENV, less PATH (here the project's venv stands in for the image's)."""
    env = dict(word.split("=", 1) for args in stage.all("ENV") for word in args.split())
    env.pop("PATH")
    return env


def healthcheck_command(stage) -> list[str]:
    (check,) = stage.all("HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    return [PYTHON if word == "python" else word for word in command]


def isolated(image: str, env: dict[str, str]) -> dict[str, str]:
    """Keeps the probed service off the session's shared queue, topic and consumer group."""
    run = uuid.uuid4().hex[:8]
    if image == "labeler":
        sqs = boto3.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL"],
                           region_name=env["AWS_DEFAULT_REGION"],
                           aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        sqs.create_queue(QueueName=f"probe-{run}")
        return {"IMAGE_QUEUE_NAME": f"probe-{run}", "LABELER_POLL_WAIT_SECONDS": "1"}
    if image == "graph-writer":
        topic = f"probe-{run}"
        asyncio.run(ensure_topics(ProvisionSettings(
            label_topic=topic, label_topic_partitions=1, label_dlq_topic=f"{topic}.dlq",
            label_dlq_topic_partitions=1,
            kafka=KafkaSettings(kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"]))))
        return {"LABEL_TOPIC": topic, "LABEL_DLQ_TOPIC": f"{topic}.dlq",
                "GRAPH_WRITER_CONSUMER_GROUP": f"probe-{run}",
                "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000",
                "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500"}
    if image == "api":
        return {"API_KEYS": run}
    return {}


def probe(command: list[str], env: dict[str, str]) -> int:
    return subprocess.run(command, env=env, capture_output=True, timeout=30,
                          check=False).returncode


@pytest.mark.parametrize("image", sorted(LISTEN))
def test_the_image_probe_follows_the_service(dockerfiles, stack, image, tmp_path):
    final = dockerfiles[image][-1]
    host, port = LISTEN[image]
    env = {**stack.env, **image_env(final), **isolated(image, stack.env),
           "PATH": f"{REPO / '.venv' / 'bin'}:/usr/bin:/bin",
           host: "127.0.0.1", port: str(free_port())}  # loopback only on this shared machine
    entrypoint = json.loads(final.all("ENTRYPOINT")[-1])
    command = [PYTHON, *entrypoint[1:], *json.loads((final.all("CMD") or ["[]"])[-1])]
    check = healthcheck_command(final)
    assert probe(check, env) != 0, "the probe passes with nothing listening"

    log = (tmp_path / f"{image}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / f"{image}.log").read_text()
            return probe(check, env) == 0

        wait_for(healthy, 60, interval=0.5, what=f"{image} healthy")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert probe(check, env) != 0, "the probe still passes after the service stopped"
