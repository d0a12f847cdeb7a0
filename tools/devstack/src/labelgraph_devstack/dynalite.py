"""dynalite: DynamoDB on LevelDB, every acknowledged write on disk.

Installed from npm at the version tools/devstack/dynalite/package-lock.json locks
(`make stand-ins`); run with the machine's node (20 or later).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labelgraph_devstack.errors import MissingDependencyError
from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.spec import WORKSPACE_ROOT, ComponentSpec

CLI = WORKSPACE_ROOT / "tools" / "devstack" / "dynalite" / "node_modules" / "dynalite" / "cli.js"


def dynalite(port: int, data: Path) -> ComponentSpec:
    url = f"http://{HOST}:{port}"
    # Tables are ACTIVE at once: the default delays imitate AWS and only slow provisioning.
    delays = ("--createTableMs", "0", "--updateTableMs", "0", "--deleteTableMs", "0")
    argv = (_node(), str(_cli()), "--host", HOST, "--port", str(port), "--path", str(data),
            *delays)
    # GET / answers 200 once it listens.
    return ComponentSpec("dynamodb", "DynamoDB (dynalite)", url, argv, port,
                         lambda: http_ok(f"{url}/"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise MissingDependencyError("dynalite needs node 20 or later on the PATH")
    return node


def _cli() -> Path:
    if not CLI.is_file():
        raise MissingDependencyError(f"dynalite is not installed ({CLI}): run `make stand-ins`")
    return CLI
