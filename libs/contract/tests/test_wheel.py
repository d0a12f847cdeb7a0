"""The contract as a consumer outside the repository gets it: a wheel built by `uv build`,
installed by path into a fresh project, offline, decoding an event read from the topic."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from labelgraph_contract import encode_event
from labelgraph_contract.schema import SCHEMA_FILE, json_schema
from labelgraph_devstack.testing import create_topics, labelled_event, produce, read_until

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".tools" / "bin" / "uv"

# Run in the fresh environment: the raw value on stdin, what the wheel made of it on stdout.
DECODE = """
import sys, json
from importlib import resources
from labelgraph_contract import decode_event
event = decode_event(sys.stdin.buffer.read())
schema = json.loads(resources.files("labelgraph_contract").joinpath("schemas", sys.argv[1])
                    .read_text())
print(json.dumps({"event": event.model_dump(mode="json"), "schema": schema,
                  "module": __import__("labelgraph_contract").__file__}))
"""


def uv(*args: str, cwd: Path) -> str:
    # Offline: everything comes from uv's cache, as `make install` filled it.
    env = {**os.environ, "UV_OFFLINE": "1", "UV_PYTHON": "python3.11",
           "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run([str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def consumer_project(folder: Path, wheel: Path, pins: list[str]) -> Path:
    """A consumer's own project pinning the wheel by path, as the contract's README says."""
    project = folder / "a-consumer"
    project.mkdir()
    dependencies = json.dumps(["labelgraph-contract==0.1.0", *pins])
    (project / "pyproject.toml").write_text(f"""
[project]
name = "a-consumer"
version = "0"
requires-python = ">=3.11,<3.12"
dependencies = {dependencies}

[tool.uv]
package = false

[tool.uv.sources]
labelgraph-contract = {{ path = "{wheel}" }}
""")
    return project


def test_the_built_wheel_installs_offline_and_decodes_an_event_from_the_topic(
        stack_env, tmp_path):
    bootstrap, topic = stack_env["KAFKA_BOOTSTRAP_SERVERS"], f"wheel-{uuid.uuid4().hex[:8]}"
    event = labelled_event(f"alarms/front/{uuid.uuid4().hex}.jpg", {"Person": 98.5})
    asyncio.run(create_topics(bootstrap, [topic], partitions=1))
    asyncio.run(produce(bootstrap, topic, [encode_event(event)]))
    (record,) = asyncio.run(read_until(bootstrap, topic, lambda records: len(records) == 1))

    dist = tmp_path / "dist"
    uv("build", "--package", "labelgraph-contract", "--wheel", "--out-dir", str(dist), cwd=ROOT)
    (wheel,) = dist.glob("labelgraph_contract-*-py3-none-any.whl")
    # Its runtime dependencies at the versions the workspace is tested with.
    pins = [line for line in uv("export", "--package", "labelgraph-contract", "--no-dev",
                                "--no-emit-workspace", "--no-hashes", "--frozen", "--quiet",
                                "--format", "requirements-txt", cwd=ROOT).splitlines()
            if line and not line.startswith(("#", " "))]
    assert any(pin.startswith("pydantic==") for pin in pins)
    project = consumer_project(tmp_path, wheel, pins)
    uv("sync", "--quiet", cwd=project)

    decoded = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", DECODE,
                              SCHEMA_FILE], input=record.value, capture_output=True,
                             timeout=60, check=True)
    answer = json.loads(decoded.stdout)
    assert answer["module"].startswith(str(project / ".venv"))  # the wheel's, not the repo's
    assert answer["event"] == event.model_dump(mode="json")
    assert answer["schema"] == json_schema()
