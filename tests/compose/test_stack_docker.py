"""The compose stack for real, where a Docker engine answers: build, `up --wait`, upload an
image, read its labels through the api. Without an engine every test here is reported as
skipped, with the reason; nothing here passes without running.

The docker SDK finds the engine and inspects what compose started (health, exit codes,
published ports, logs); Compose's own CLI brings the stack up, as a user's `make up` does.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port

REPO = Path(__file__).resolve().parents[2]
FILES = [REPO / "compose.yaml", Path(__file__).with_name("compose.test.yaml")]
UP_TIMEOUT_S = 900  # first builds and image pulls


@dataclass
class RunningStack:
    """A compose project started by this suite, and how to reach it from the host."""

    project: str
    env: dict[str, str]
    engine: Any

    def containers(self) -> list[Any]:
        return self.engine.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={self.project}"})

    def container(self, service: str) -> Any:
        (found,) = [c for c in self.containers()
                    if c.labels.get("com.docker.compose.service") == service]
        return found

    def published(self, service: str, port: int) -> str:
        """http://127.0.0.1:<host port> of a container port, as the engine mapped it."""
        container = self.container(service)
        container.reload()
        binding = container.ports[f"{port}/tcp"][0]
        return f"http://127.0.0.1:{binding['HostPort']}"

    def logs(self) -> str:
        return "\n".join(f"--- {c.name} ({c.status})\n{c.logs(tail=60).decode(errors='replace')}"
                         for c in self.containers())


def compose(stack_env: dict[str, str], project: str, *args: str, timeout: float = 300
            ) -> subprocess.CompletedProcess[str]:
    files = [arg for path in FILES for arg in ("-f", str(path))]
    # .env.example, not a developer's .env (which may point at real AWS); the variables
    # in stack_env override it.
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "docker-compose"), "--project-directory", str(REPO),
         "--env-file", str(REPO / ".env.example"), "-p", project, *files, *args],
        env=stack_env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def running(engine: Any) -> Iterator[RunningStack]:
    """The whole stack, up and healthy, under a project name of its own."""
    project = f"labelgraph-test-{uuid.uuid4().hex[:8]}"
    env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST")},
           "NEO4J_PASSWORD": secrets.token_hex(12), "API_KEYS": secrets.token_hex(12),
           "API_PUBLISHED_PORT": str(free_port()), "NEO4J_BROWSER_PORT": str(free_port()),
           "NEO4J_BOLT_PORT": str(free_port()), "LABELER_POLL_WAIT_SECONDS": "1"}
    env["LOCALSTACK_PUBLISHED_PORT"] = str(free_port())
    env["API_PUBLIC_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{env['LOCALSTACK_PUBLISHED_PORT']}"
    stack = RunningStack(project, env, engine)
    try:
        up = compose(env, project, "up", "--build", "--detach", "--wait",
                     "--wait-timeout", str(UP_TIMEOUT_S), timeout=UP_TIMEOUT_S + 60)
        assert up.returncode == 0, f"up failed:\n{up.stderr}\n{stack.logs()}"
        yield stack
    finally:
        compose(env, project, "down", "--volumes", "--remove-orphans")


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_long_running_containers_are_healthy_and_jobs_exited_zero(running):
    states = {c.labels["com.docker.compose.service"]: c.attrs["State"]
              for c in running.containers()}
    for job in ("provision", "graph-schema"):
        assert states[job]["Status"] == "exited" and states[job]["ExitCode"] == 0, job
    for service, state in states.items():
        if service not in ("provision", "graph-schema"):
            assert state["Health"]["Status"] == "healthy", (service, state)


def test_images_run_as_non_root(running):
    for service in ("labeler", "graph-writer", "api", "rekognition-stub"):
        assert running.container(service).attrs["Config"]["User"] not in ("", "root", "0")


def test_an_uploaded_image_is_labelled_and_served_by_the_api(running):
    camera = f"cam{uuid.uuid4().hex[:6]}"
    captured = datetime(2016, 11, 5, 7, 15, 30, tzinfo=UTC)
    key = (f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/"
           f"snap_{captured:%Y%m%d-%H%M%S}.jpg")
    stub = running.published("rekognition-stub", 8900)
    rules = {"rules": [{"match": {"key": key}, "labels": [
        {"Name": "Person", "Confidence": 99.1}, {"Name": "Plant", "Confidence": 77.5}]}]}
    httpx.post(f"{stub}/_stub/rules/prepend", json=rules, timeout=10).raise_for_status()

    s3 = boto3.client("s3", endpoint_url=running.published("localstack", 4566),
                      region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    jpeg_bytes = jpeg()
    s3.put_object(Bucket="security-alarms", Key=key, Body=jpeg_bytes, ContentType="image/jpeg")

    api = f"http://127.0.0.1:{running.env['API_PUBLISHED_PORT']}"
    headers = {"X-API-Key": running.env["API_KEYS"]}
    assert httpx.get(f"{api}/images/{key}", timeout=10).status_code == 401

    def labelled() -> dict[str, Any] | None:
        response = httpx.get(f"{api}/images/{key}", headers=headers, timeout=10)
        return response.json() if response.status_code == 200 else None

    image = wait_for(labelled, 120, interval=0.5, what=f"{key} through the api")
    assert image["camera"] == camera
    assert [(label["name"], label["confidence"]) for label in image["labels"]] == [
        ("Person", 99.1), ("Plant", 77.5)]
    # The presigned URL works from the host, as a browser on /ui/images fetches it.
    assert httpx.get(image["url"], timeout=10).content == jpeg_bytes
