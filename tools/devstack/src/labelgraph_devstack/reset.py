"""`labelgraph-devstack reset`: delete the durable stack's state folder, saying first what
goes, and never under a running stack."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from labelgraph_devstack.durable import StateLayout
from labelgraph_devstack.lock import StateLock


def folder_size(folder: Path) -> int:
    """Bytes in the files under `folder` (0 when it does not exist)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def describe(layout: StateLayout) -> list[str]:
    """One line per part of the state that exists, with its size."""
    parts = {
        layout.objects: "images and Kafka's topics and offsets (S3)",
        layout.tables: "label rows and verdicts (DynamoDB)",
        layout.graph: "the graph",
        layout.queue_snapshot: "upload queues saved at the last stop",
    }
    return [f"  {path}  {what}, {folder_size(path) / 1e6:.1f} MB"
            for path, what in parts.items() if path.exists()]


def reset(state_dir: Path, confirm: Callable[[], bool]) -> int:
    """Delete `state_dir`'s state after listing it and asking confirm(); an exit code."""
    layout = StateLayout.inside(state_dir)
    if not layout.root.exists():
        print(f"nothing to delete: {layout.root} does not exist")
        return 0
    lock = StateLock(state_dir)
    lock.acquire()  # refuses while a stack runs on this folder
    try:
        print(f"this deletes everything the stack kept in {layout.root}:")
        print("\n".join(describe(layout)))
        if not confirm():
            print("nothing deleted", file=sys.stderr)
            return 1
        shutil.rmtree(layout.root)
        print(f"deleted {layout.root}: the next start begins from nothing")
        return 0
    finally:
        lock.release()
