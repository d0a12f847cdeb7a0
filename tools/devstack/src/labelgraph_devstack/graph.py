"""ArcadeDB with its Bolt plugin, standing in for Neo4j 5."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from labelgraph_devstack.errors import DevstackError, MissingDependencyError
from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import bolt_answers, http_ok
from labelgraph_devstack.spec import ComponentSpec, package_dir

DATABASE = "neo4j"
USER = "neo4j"
HEAP_VARIABLE = "DEVSTACK_GRAPH_HEAP"
# A year of a deployment: 1,000,000 images (10 M label edges, 3 GB on disk) answered every
# page's questions at 2g, but at the edge of it (2.1 GB resident, the month heat map 94 ms
# p50 / 139 p95); at 3g the same graph and code took 66 / 114 (bench/api_bench.py,
# docs/benchmarks.md "A million images, second pass"). 512m runs out of memory at 214,000.
# The JVM takes the heap as it needs it (no -Xms), so a small graph costs no more.
DEFAULT_HEAP = "3g"
_HEAP = re.compile(r"[1-9][0-9]*[kKmMgG]")


@dataclass(frozen=True)
class GraphAccess:
    bolt_port: int
    http_port: int
    root_password: str
    password: str

    @property
    def bolt_uri(self) -> str:
        return f"bolt://{HOST}:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"


def graph_heap(requested: str | None) -> str:
    """The JVM's -Xmx value: `requested`, else $DEVSTACK_GRAPH_HEAP, else 3g."""
    heap = requested or os.environ.get(HEAP_VARIABLE) or DEFAULT_HEAP
    if not _HEAP.fullmatch(heap):
        raise DevstackError(
            f"graph heap {heap!r} (argument or ${HEAP_VARIABLE}) is not a Java size: "
            "write a number with k, m or g, such as 512m or 2g"
        )
    return heap


def arcadedb(access: GraphAccess, root: Path, heap: str = DEFAULT_HEAP) -> ComponentSpec:
    """The server over the data kept in `root`, which survives stop and start."""
    home = package_dir("arcadedb_embedded", "arcadedb-embedded")
    java = home / "jre" / "bin" / "java"
    if not os.access(java, os.X_OK):
        raise MissingDependencyError(
            f"arcadedb-embedded has no runnable Java at {java}: reinstall it with `make install`"
        )
    argv = (
        str(java),
        f"-Xmx{heap}",
        "-cp",
        f"{home / 'jars'}/*",
        f"-Darcadedb.server.rootPath={root}",
        f"-Darcadedb.server.databaseDirectory={root / 'databases'}",
        f"-Darcadedb.server.rootPassword={access.root_password}",
        f"-Darcadedb.server.httpIncomingHost={HOST}",
        f"-Darcadedb.server.httpIncomingPort={access.http_port}",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        f"-Darcadedb.bolt.host={HOST}",
        f"-Darcadedb.bolt.port={access.bolt_port}",
        f"-Darcadedb.server.defaultDatabases={DATABASE}[{USER}:{access.password}:admin]",
        f"-Darcadedb.bolt.defaultDatabase={DATABASE}",
        "com.arcadedb.server.ArcadeDBServer",
    )
    return ComponentSpec(
        "graph",
        "Graph (ArcadeDB over Bolt)",
        f"{access.bolt_uri} (HTTP {access.http_url})",
        argv,
        access.bolt_port,
        lambda: _answers(access),
    )


def _answers(access: GraphAccess) -> bool:
    # Bolt accepts logins before the default database and its user exist, and a login
    # tried in that window keeps failing for about a minute: ask HTTP first.
    return http_ok(f"{access.http_url}/api/v1/ready") and bolt_answers(
        access.bolt_uri, USER, access.password, DATABASE
    )
