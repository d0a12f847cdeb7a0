"""The release workflow cannot run here (no GitHub, no Docker): it is validated against the
GitHub workflow JSON Schema that the pinned check-jsonschema vendors (offline), and held to
the images it must build: the four released Dockerfiles, each with the build arguments its
OCI labels read, tagged with the file VERSION."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
CHECK_JSONSCHEMA = REPO / ".venv" / "bin" / "check-jsonschema"
RELEASED = {"labelgraph-labeler": "services/labeler/Dockerfile",
            "labelgraph-graph-writer": "services/graph-writer/Dockerfile",
            "labelgraph-api": "services/api/Dockerfile",
            "labelgraph-provision": "tools/provision/Dockerfile"}


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


def test_the_workflow_validates_against_the_github_workflow_schema():
    result = schema_check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path):
    """The check above can fail: a job without runs-on, a step that is neither run nor uses."""
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: x"))
    assert schema_check(broken).returncode != 0


def test_it_runs_on_version_tags_only(workflow):
    # YAML 1.1 reads the key `on` as True.
    trigger = workflow.get("on", workflow.get(True))
    assert trigger == {"push": {"tags": ["v*.*.*"]}}


def build_steps(workflow: dict[Any, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (job,) = workflow["jobs"].values()
    builds = [step for step in job["steps"]
              if str(step.get("uses", "")).startswith("docker/build-push-action@")]
    return job["strategy"]["matrix"]["include"], builds


def test_it_builds_and_pushes_exactly_the_four_released_images(workflow):
    matrix, (build,) = build_steps(workflow)
    assert {entry["image"]: entry["dockerfile"] for entry in matrix} == RELEASED
    assert all((REPO / dockerfile).is_file() for dockerfile in RELEASED.values())
    assert build["with"]["push"] is True and build["with"]["context"] == "."
    assert build["with"]["file"] == "${{ matrix.dockerfile }}"
    assert build["with"]["tags"].endswith(
        "/${{ matrix.image }}:${{ steps.version.outputs.version }}")


def test_it_passes_every_build_argument_the_oci_labels_read(workflow):
    _, (build,) = build_steps(workflow)
    passed = {line.split("=", 1)[0] for line in build["with"]["build-args"].splitlines()}
    for dockerfile in RELEASED.values():
        args = {line.split()[1].split("=", 1)[0]
                for line in (REPO / dockerfile).read_text().splitlines()
                if line.startswith("ARG ")}
        assert args == passed, dockerfile


def test_the_version_comes_from_the_version_file_and_must_match_the_tag(workflow):
    (job,) = workflow["jobs"].values()
    (step,) = [step for step in job["steps"] if step.get("id") == "version"]
    assert 'version="$(cat VERSION)"' in step["run"]
    assert '"$TAG" != "v$version"' in step["run"] and "exit 1" in step["run"]
