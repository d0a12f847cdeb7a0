"""Every command in the READMEs runs as written on a fresh clone.

Each shell block of the docs is listed below, either with the commands that run it here
(its `--help` form, `make -n`, or the command itself) or with the reason it is only
checked. Every block is checked: a `python`, `pytest`, `pip` or project command must go
through `.venv/bin/` (a bare one needs an activated venv) or be a `make` target.
"""

import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    path.relative_to(ROOT).as_posix()
    for pattern in ("README.md", "services/*/README.md", "tools/*/README.md", "libs/*/README.md",
                    "docs/*.md", "samples/*/README.md")
    for path in ROOT.glob(pattern)
)
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```", re.S | re.M)
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# Commands that only work from an activated venv, or from the image's PATH.
VENV_COMMANDS = {"python", "python3", "pytest", "pip", "uv", "rekognition-stub",
                 "labelgraph-devstack", "labelgraph-provision"}

PY = ".venv/bin/python"
LABELER_COMMANDS = ("run", "backfill", "relabel", "reconcile")
MSK_BROKER = "b-1.mycluster.abc123.c2.kafka.eu-west-1.amazonaws.com"
Where = tuple[str, str]
# Blocks run here, by file and the start of their first line, with what runs them here
# without a running stack.
RUN = {
    ("README.md", "make run"): ["make -n run", "make -n test"],
    ("README.md", f"{PY} -m labelgraph_demo ground-truth"):
        [f"{PY} -m labelgraph_demo ground-truth --help"],
    ("services/graph-writer/README.md", f"{PY} -m labelgraph_graph_writer run"):
        [f"{PY} -m labelgraph_graph_writer --help"],
    ("services/labeler/README.md", f"{PY} -m labelgraph_labeler run"):
        [f"{PY} -m labelgraph_labeler {command} --help" for command in LABELER_COMMANDS],
    ("tools/devstack/README.md", f"{PY} -m labelgraph_devstack up"):
        [f"{PY} -m labelgraph_devstack up --help", f"{PY} -m labelgraph_devstack env --help"],
    ("tools/provision/README.md", f"{PY} -m labelgraph_provision"):
        [f"{PY} -m labelgraph_provision --help"],
    ("tools/rekognition-stub/README.md", f"{PY} -m rekognition_stub"):
        [f"{PY} -m rekognition_stub --help", ".venv/bin/rekognition-stub --help"],
    ("README.md", "make import CAMERA=frontdoor"):
        ["make -n import CAMERA=frontdoor FOLDER=samples/photos DRY_RUN=1",
         f"{PY} -m labelgraph_importer --help"],
    ("tools/importer/README.md", f"{PY} -m labelgraph_importer --camera frontdoor ~"):
        [f"{PY} -m labelgraph_importer --help"],
    ("tools/importer/README.md", f"{PY} -m labelgraph_importer --camera frontdoor --watch"):
        [f"{PY} -m labelgraph_importer --help"],
    ("docs/deploy.md", "cp .env.example .env"):
        ["test -f .env.example", "make -n logs", "make -n down"],
    ("docs/deploy.md", "IMAGE_PREFIX=alarms/ envsubst"):
        ["IMAGE_PREFIX=alarms/ envsubst '$IMAGE_PREFIX' < deploy/iam/api.json"
         " | .venv/bin/python -m json.tool"],
    ("docs/deploy.md", "kubectl kustomize deploy/k8s/overlays/example"):
        [".tools/kubectl/kubectl kustomize deploy/k8s/overlays/example"],
}
NEEDS_COMPOSE = "needs Docker with the compose stack running (none on this machine)"
SETTINGS_ONLY = "settings for real AWS or a managed Kafka: nothing to run"
NEEDS_CLUSTER = "needs a Kubernetes cluster; tests/deploy/test_kubernetes.py checks the manifests"
NEEDS_AWS = "needs an AWS account; tests/deploy/test_ecs.py checks the task definitions"
EXAMPLE_ANSWER = ("the command of an example answer, run against make run's demo: needs a "
                  "running api; tests/test_api_routes.py runs every route")
# Blocks only checked, by file and the start of their first line, and why.
CHECK_ONLY = {
    ("README.md", "set -a; source .devstack/stack.env"):
        "needs a running stack: tests/test_kafka_tools.py runs it against the embedded broker",
    ("docs/deploy.md", 'curl -H "X-API-Key: $API_KEYS"'): NEEDS_COMPOSE,
    ("docs/deploy.md", "curl -X PUT http://127.0.0.1:8900/_stub/rules"): NEEDS_COMPOSE,
    ("docs/deploy.md", "docker compose exec neo4j cypher-shell"): NEEDS_COMPOSE,
    ("docs/deploy.md", "docker build -f services/labeler/Dockerfile"):
        "needs a Docker engine; tests/compose/ checks the Dockerfiles without one",
    ("docs/deploy.md", "COMPOSE_PROFILES=durable make up"): NEEDS_COMPOSE,
    ("docs/deploy.md", "kubectl create namespace labelgraph"): NEEDS_CLUSTER,
    ("docs/deploy.md", "aws ecs register-task-definition"): NEEDS_AWS,
    ("docs/deploy.md", "aws secretsmanager create-secret"): NEEDS_AWS,
    ("docs/deploy.md", "aws ecs run-task"): NEEDS_AWS,
    ("docs/deploy.md", "docker build -f services/api/Dockerfile --build-arg"):
        "needs a Docker engine; tests/deploy/test_release_workflow.py checks the build arguments",
    ("docs/deploy.md", "AWS_ENDPOINT_URL="): SETTINGS_ONLY,
    ("docs/deploy.md", "IMAGE_TOPIC_NAME="): SETTINGS_ONLY,
    ("docs/deploy.md", f"KAFKA_BOOTSTRAP_SERVERS={MSK_BROKER}:9098"): SETTINGS_ONLY,
    ("docs/deploy.md", f"KAFKA_BOOTSTRAP_SERVERS={MSK_BROKER}:9096"): SETTINGS_ONLY,
    ("docs/deploy.md", "KAFKA_BOOTSTRAP_SERVERS=pkc-xxxxx"): SETTINGS_ONLY,
    ("docs/deploy.md", "KAFKA_BOOTSTRAP_SERVERS=kafka-1.internal"): SETTINGS_ONLY,
    ("samples/photos/README.md", "python3 -m venv /tmp/photos-venv"):
        "downloads scikit-image and a Debian package into a throwaway venv, run once by hand",
    ("services/api/README.md", 'curl -s "$API/'): EXAMPLE_ANSWER,
    ("services/api/README.md", 'curl -s -X PUT "$API/verdicts"'): EXAMPLE_ANSWER,
    ("services/api/README.md", 'curl -s -X PUT "$API/verdicts/bulk"'): EXAMPLE_ANSWER,
    ("services/api/README.md", 'curl -s -X POST "$API/verdicts/undo"'): EXAMPLE_ANSWER,
    ("services/api/README.md", 'curl -s -D - "$API/export'): EXAMPLE_ANSWER,
    ("libs/contract/README.md", ".tools/bin/uv build --package labelgraph-contract"):
        "libs/contract/tests/test_wheel.py builds the wheel in a temporary folder and installs it",
}
IN_THE_IMAGE = "the image's entrypoint: its PATH starts with the venv"
# Inline commands that are right as written, and why.
INLINE_EXEMPT = {
    ("docs/deploy.md", "python -m labelgraph_labeler"): IN_THE_IMAGE,
    ("docs/deploy.md", "python -m labelgraph_graph_writer"): IN_THE_IMAGE,
    ("docs/deploy.md", "python -m labelgraph_api"): IN_THE_IMAGE,
    ("docs/deploy.md", "python -m labelgraph_provision"): IN_THE_IMAGE,
    ("docs/deploy.md", "uv sync --frozen --no-dev --no-editable --package <member>"):
        "a Dockerfile's build step",
    ("docs/deploy.md", "uv sync"): "a Dockerfile's build step",
    ("libs/contract/README.md", "uv sync"): "what libs/contract/tests/test_wheel.py does, told",
}


def shell_blocks() -> dict[Where, str]:
    """Each shell block of the docs, by file and first line."""
    return {
        (doc, block.splitlines()[0]): block
        for doc in DOCS
        for block in SHELL_BLOCK.findall((ROOT / doc).read_text())
    }


def entry_of(where: tuple[str, str], table: Mapping[tuple[str, str], object]) -> Where | None:
    doc, first_line = where
    return next((key for key in table if key[0] == doc and first_line.startswith(key[1])), None)


def words_of(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    return list(lexer)


def simple_commands(text: str) -> list[list[str]]:
    """The words of each simple command in a shell text, without comments and assignments."""
    commands: list[list[str]] = [[]]
    for line in text.replace("\\\n", " ").splitlines():
        for word in [*words_of(line), ";"]:
            if word in {";", "&&", "||", "|", "(", ")"}:
                commands.append([])
            elif not (ASSIGNMENT.fullmatch(word) and not commands[-1]):
                commands[-1].append(word)
    return [words for words in commands if words]


def needs_venv(words: list[str]) -> bool:
    if not words:
        return False
    if words[:3] == ["python3", "-m", "venv"]:  # makes a venv, with the system's Python
        return False
    return words[0] in VENV_COMMANDS


def test_every_shell_block_is_either_run_or_checked_for_a_reason():
    blocks = shell_blocks()
    entries = {where: entry_of(where, RUN) or entry_of(where, CHECK_ONLY) for where in blocks}
    unclassified = [where for where, entry in entries.items() if entry is None]
    assert not unclassified, "add these blocks to RUN or CHECK_ONLY"
    used = set(entries.values())
    assert (RUN.keys() | CHECK_ONLY.keys()) - used == set(), "these blocks are gone from the docs"


@pytest.mark.parametrize("where", sorted(shell_blocks()), ids=lambda where: ":".join(where)[:60])
def test_shell_commands_go_through_the_venv_or_make(where):
    commands = simple_commands(shell_blocks()[where])
    bare = [" ".join(words) for words in commands if needs_venv(words)]
    assert not bare, f"{where[0]}: use .venv/bin/ or a make target for {bare}"


@pytest.mark.parametrize("doc", DOCS)
def test_inline_commands_go_through_the_venv_or_make(doc):
    prose = SHELL_BLOCK.sub("", (ROOT / doc).read_text())
    bare = [
        code for code in INLINE_CODE.findall(prose)
        if code.split()[0] in VENV_COMMANDS and len(code.split()) > 1
        and (doc, code) not in INLINE_EXEMPT and not code.startswith("python3 -m venv")
    ]
    assert not bare, f"{doc}: use .venv/bin/ or a make target for {bare}"


def test_the_checker_finds_a_bare_python_and_spares_the_venv_and_make():
    found = [needs_venv(words) for words in simple_commands(
        "python -m labelgraph_demo  # comment\n(cd /tmp && pytest -q)\n"
        ".venv/bin/python -m x; make run\n"
        "A=1 pip install y | \\\n  tee log\npython3 -m venv /tmp/v\n")]
    assert found == [True, False, True, False, False, True, False, False]


@pytest.mark.parametrize("command", [c for commands in RUN.values() for c in commands])
def test_documented_command_runs_here(command):
    # a fresh clone's view: no active venv on PATH, run from the repository's root
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home())}
    result = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"


def test_the_contract_exports_the_committed_schemas(tmp_path):
    # `make schemas`'s recipe, into a temp dir: what it writes is what is committed
    # --no-print-directory: under `make test` a nested make names its directory otherwise.
    recipe = subprocess.run(["make", "--no-print-directory", "-n", "schemas"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert f"{PY} -m labelgraph_contract export schemas" in recipe
    export = [sys.executable, "-m", "labelgraph_contract", "export", str(tmp_path)]
    subprocess.run(export, check=True)
    written = {path.name: path.read_text() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_text() for path in (ROOT / "schemas").iterdir()}
    assert written == committed


def test_make_clean_removes_what_the_targets_fetched_and_nothing_tracked():
    removed = subprocess.run(["make", "--no-print-directory", "-n", "clean"], cwd=ROOT,
                             capture_output=True, text=True,
                             check=True).stdout.split()
    assert removed[:2] == ["rm", "-rf"]
    paths = removed[2:]
    assert {".venv", ".tools", ".devstack", "services/api/web/node_modules",
            "services/api/src/labelgraph_api/pages/static/vendor"} <= set(paths)
    tracked = subprocess.run(["git", "ls-files", "--", *paths], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert tracked == "", f"make clean would delete tracked files: {tracked}"
