"""The Dockerfiles, checked without a Docker engine: hadolint, the image shape the issue
asks for, and the builder's `uv sync` run for real on exactly what the Dockerfile copies."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
IMAGES = ["labeler", "graph-writer", "api", "rekognition-stub", "provision"]
RUNTIME_FOLDER = {  # what the builder may copy besides the lock and the workspace root
    "labeler": {"libs/", "services/labeler/"},
    "graph-writer": {"libs/", "services/graph-writer/"},
    "api": {"libs/", "services/api/"},
    "rekognition-stub": {"tools/rekognition-stub/"},
    "provision": {"libs/contract/", "libs/kafka/", "tools/provision/"},
}
# The images a release pushes, by their package: their version is the file VERSION.
RELEASED = {"labeler": "labelgraph-labeler", "graph-writer": "labelgraph-graph-writer",
            "api": "labelgraph-api", "provision": "labelgraph-provision"}
OCI = "org.opencontainers.image."
OTHER_APPS = {"labelgraph_labeler", "labelgraph_graph_writer", "labelgraph_api",
              "rekognition_stub", "labelgraph_provision", "labelgraph_devstack",
              "labelgraph_demo"}


def test_every_dockerfile_passes_hadolint(images):
    paths = [str(REPO / path) for path in images.values()]
    result = subprocess.run([str(BIN / "hadolint"), *paths], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("image", IMAGES)
def test_image_is_multi_stage_on_one_pinned_slim_base(dockerfiles, image):
    stages = dockerfiles[image]
    # Named stages may come first (the api's assets); the last two build and run.
    assert [stage.name for stage in stages][-2:] == ["builder", None]
    assert all(stage.name for stage in stages[:-1])
    # The venv's python is a symlink into the base: both stages must be the same image.
    assert stages[-2].base == stages[-1].base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", stages[1].base)


@pytest.mark.parametrize("image", IMAGES)
def test_final_stage_holds_only_the_venv_and_runs_as_non_root(dockerfiles, image):
    final = dockerfiles[image][-1]
    copies = final.all("COPY")
    assert copies == ["--from=builder /app/.venv /app/.venv"], "only the built venv"
    # No package manager, compiler or uv: the one RUN adds the user.
    assert [run.split()[0] for run in final.all("RUN")] == ["useradd"]
    users = final.all("USER")
    assert users and users[-1] not in ("root", "0")


@pytest.mark.parametrize("image", IMAGES)
def test_final_stage_runs_one_process_and_probes_it(dockerfiles, image):
    final = dockerfiles[image][-1]
    entrypoint = exec_form(final.all("ENTRYPOINT")[-1])
    assert entrypoint[:2] == ["python", "-m"] and len(entrypoint) == 3
    healthchecks = final.all("HEALTHCHECK")
    assert len(healthchecks) == 1
    if image == "provision":
        assert healthchecks == ["NONE"], "a one-shot job has nothing to probe"
    else:
        probe = healthchecks[0]
        assert "CMD [" in probe and "127.0.0.1" in probe, "exec-form probe, no curl needed"


def test_builders_pin_the_uv_the_makefile_uses(dockerfiles):
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert makefile_uv
    for image in IMAGES:
        installs = " ".join(builder_stage(dockerfiles[image]).all("RUN"))
        assert f"uv=={makefile_uv.group(1)}" in installs, image


@pytest.mark.parametrize("image", IMAGES)
def test_builder_copies_only_the_lock_root_libs_and_its_own_folder(dockerfiles, image):
    copied = {source for args in builder_stage(dockerfiles[image]).all("COPY")
              if not args.startswith("--from=") for source in copy_sources(args)[0]}
    assert copied <= {"uv.lock", "pyproject.toml", "VERSION"} | RUNTIME_FOLDER[image]
    assert {"uv.lock", "pyproject.toml"} <= copied


@pytest.mark.parametrize("image", IMAGES)
def test_builder_installs_from_exactly_what_it_copies(dockerfiles, image, tmp_path):
    """Replays the builder: its COPYs into an empty folder, then its own `uv sync`."""
    builder = builder_stage(dockerfiles[image])
    context = tmp_path / "src"
    context.mkdir()
    for args in builder.all("COPY"):
        sources, destination = copy_sources(args)
        if args.startswith("--from="):
            # Another stage's product: `make assets` built the same file in the work tree.
            place(destination, context)
            continue
        for source in sources:
            place(source, context)
    venv = tmp_path / "venv"
    result = subprocess.run(
        [uv_binary(), "sync", *uv_sync_args(builder.all("RUN"))], cwd=context,
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never",
             "UV_PYTHON": "python3.11", "VIRTUAL_ENV": ""},
    )
    assert result.returncode == 0, result.stderr
    module = exec_form(dockerfiles[image][-1].all("ENTRYPOINT")[-1])[2]
    check = subprocess.run([str(venv / "bin" / "python"), "-c", IMPORT_ALL, module,
                            *sorted(OTHER_APPS - {module})],
                           capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stderr
    assert "/site-packages/" in check.stdout, "installed as a wheel, not an editable checkout"


# Imports every module of the entrypoint's package (its __main__ aside, which would run),
# proving its dependencies are installed, and refuses any other app in the image.
IMPORT_ALL = """
import importlib, importlib.util, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
strays = [name for name in sys.argv[2:] if importlib.util.find_spec(name)]
assert not strays, f"other apps in the image: {strays}"
print(package.__file__)
"""


def place(source: str, context: Path) -> None:
    """Copies one COPY source from the repository, less what .dockerignore keeps out."""
    origin = REPO / source
    target = context / source
    target.parent.mkdir(parents=True, exist_ok=True)
    if origin.is_dir():
        # Into what an earlier COPY made, as Docker merges folders.
        shutil.copytree(origin, target, ignore=shutil.ignore_patterns(*dockerignored()),
                        dirs_exist_ok=True)
    else:
        shutil.copy2(origin, target)


def dockerignored() -> list[str]:
    """The `**/name` patterns of .dockerignore, the ones that reach inside copied folders."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.removeprefix("**/") for line in lines if line.startswith("**/")]


def uv_sync_args(runs: list[str]) -> list[str]:
    """The arguments of the builder's `uv sync` (there is exactly one)."""
    syncs = [run for run in runs if "uv sync" in run]
    assert len(syncs) == 1
    return shlex.split(syncs[0].split("uv sync", 1)[1])


def uv_binary() -> str:
    """The project's pinned uv (`make install` puts it in .tools/), else one on PATH."""
    pinned = REPO / ".tools" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    assert found, "no uv: run `make install`"
    return found


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not exec form: {args}"
    return [str(word) for word in value]


def copy_sources(args: str) -> tuple[list[str], str]:
    words = [word for word in shlex.split(args) if not word.startswith("--")]
    return words[:-1], words[-1]


def builder_stage(stages: list[Any]) -> Any:
    return next(stage for stage in stages if stage.name == "builder")


def oci_labels(stage: Any) -> dict[str, str]:
    words = [word for args in stage.all("LABEL") for word in shlex.split(args)]
    return dict(word.split("=", 1) for word in words)


@pytest.mark.parametrize("image", IMAGES)
def test_final_stage_carries_the_oci_labels_with_the_release_version(dockerfiles, image):
    final = dockerfiles[image][-1]
    labels = oci_labels(final)
    wanted = {f"{OCI}{name}" for name in ("title", "description", "version", "revision",
                                          "source")}
    assert wanted <= set(labels), f"{image}: missing {sorted(wanted - set(labels))}"
    assert labels[f"{OCI}title"] == f"labelgraph-{image}"
    # Filled by the release workflow's build arguments; a local build says "dev".
    assert labels[f"{OCI}version"] == "$VERSION" and "VERSION=dev" in final.all("ARG")
    assert labels[f"{OCI}revision"] == "$REVISION"


def test_released_packages_have_one_version_the_file_version():
    version = (REPO / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version) and version != "0.1.0"
    for package in RELEASED.values():
        assert importlib.metadata.version(package) == version, (
            f"{package}: installed {importlib.metadata.version(package)}, VERSION says "
            f"{version}: run `make install`")


@pytest.mark.parametrize("image", sorted(RELEASED))
def test_released_builders_copy_the_version_file(dockerfiles, image):
    copied = {source for args in builder_stage(dockerfiles[image]).all("COPY")
              if not args.startswith("--from=") for source in copy_sources(args)[0]}
    assert "VERSION" in copied, f"{image}: its package's version is read from VERSION"
