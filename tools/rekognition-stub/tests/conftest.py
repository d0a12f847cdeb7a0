"""Real servers for the stub's integration tests: moto for S3, the stub as its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port
from labelgraph_devstack.probes import http_ok

VENV_BIN = Path(sys.executable).parent
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Small limits so the size tests need no 15 MB uploads.
MAX_S3_BYTES = 200_000
MAX_INLINE_BYTES = 100_000
STARTING_RULES = {
    "model_version": "3.0",
    "default": {"labels": [
        {"Name": "Tree", "Confidence": 88.1, "Parents": [{"Name": "Plant"}]},
        {"Name": "Plant", "Confidence": 88.1},
    ]},
    "rules": [],
}


@dataclass(frozen=True)
class RunningStub:
    """The stub process under test."""

    url: str
    rules_file: Path
    log_file: Path
    max_s3_bytes: int = MAX_S3_BYTES
    max_inline_bytes: int = MAX_INLINE_BYTES


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/moto-api/"), 15, interval=0.05, what="moto_server")
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def stub(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStub]:
    folder = tmp_path_factory.mktemp("rekognition-stub")
    rules_file = folder / "rules.json"
    rules_file.write_text(json.dumps(STARTING_RULES))
    log_file = folder / "stub.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= CREDENTIALS | {
        "AWS_ENDPOINT_URL": moto_url,
        "REKOGNITION_STUB_MAX_S3_BYTES": str(MAX_S3_BYTES),
        "REKOGNITION_STUB_MAX_INLINE_BYTES": str(MAX_INLINE_BYTES),
    }
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rekognition_stub", "--port", "0", "--rules", str(rules_file)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = _announced_url(log_file, process)
        yield RunningStub(url=url, rules_file=rules_file, log_file=log_file)
    finally:
        stop(process)


def _announced_url(log_file: Path, process: subprocess.Popen[bytes]) -> str:
    """The URL the stub logs once it listens (it was started on port 0)."""
    marker = "listening on "

    def announced() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"stub exited: {log_file.read_text()}")
        return marker in log_file.read_text()

    wait_for(announced, 15, interval=0.05, what="rekognition stub")
    line = next(line for line in log_file.read_text().splitlines() if marker in line)
    return line.split(marker, 1)[1].strip()
