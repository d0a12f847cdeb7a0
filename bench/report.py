"""What every benchmark writes beside its figures: when, on what, under what load."""

from __future__ import annotations

import json
import os
import platform
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
