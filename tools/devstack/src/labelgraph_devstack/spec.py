"""How to start one component and how to tell that it is ready."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labelgraph_devstack.errors import MissingDependencyError

# The checkout this package is installed from (editable, as the workspace installs it):
# the durable stand-ins are installed beside it, not into the workspace's environment.
WORKSPACE_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    title: str
    url: str
    argv: tuple[str, ...]
    port: int
    ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)


def package_dir(module: str, distribution: str) -> Path:
    """Where an installed package lives, found without importing it.

    Importing arcadedb_embedded would load JPype for nothing; we only need its files.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"{distribution} is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def require_module(module: str, distribution: str) -> None:
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package of `module` is missing
        found = False
    if not found:
        raise MissingDependencyError(f"{distribution} is not installed: run `make install`")
