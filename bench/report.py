"""What every benchmark writes beside its figures: when, on what, under what load."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def run_facts() -> dict[str, Any]:
    """The date, the machine and its load at the end of the run (the machine is shared)."""
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
            "machine": f"{platform.processor() or platform.machine()}, "
                       f"{os.cpu_count()} cpus, {platform.platform()}, shared"}


def record(output: Path, name: str, result: dict[str, Any]) -> None:
    """Print the result and append it to <output>/<name>.jsonl, one line a run."""
    print(json.dumps(result, indent=2))
    output.mkdir(parents=True, exist_ok=True)
    with (output / f"{name}.jsonl").open("a") as out:
        out.write(json.dumps(result) + "\n")


def graph_footprint(stack: Any) -> dict[str, float]:
    """An EmbeddedStack's ArcadeDB: resident memory and data on disk, in MB."""
    status = Path(f"/proc/{stack.pids['graph']}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS:"))
    graph = stack.layout.graph if stack.durable else stack.state_dir / "arcadedb"
    disk = sum(path.stat().st_size for path in graph.rglob("*") if path.is_file())
    return {"graph_rss_mb": round(rss_kb / 1024), "graph_disk_mb": round(disk / 2**20)}


def summary(latencies: list[float]) -> dict[str, Any]:
    """p50 and p95 in ms of latencies in seconds, and how many."""
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    ordered = sorted(latencies)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] * 1000, 1),
            "n": len(ordered)}
