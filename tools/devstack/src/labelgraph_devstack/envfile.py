"""The stack's environment as a dotenv file that shells, compose and python-dotenv read."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path


def render(env: Mapping[str, str]) -> str:
    # Plain KEY=value (no `export`): compose's env_file rejects the prefix; shells load it
    # with `set -a`.
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in env.items())


def write(path: Path, env: Mapping[str, str]) -> None:
    """Replace the file atomically, so a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(render(env))
    partial.replace(path)
