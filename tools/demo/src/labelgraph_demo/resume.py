"""A second `make run` carries on: the same demo images (made from the first run's start
time), and only those the bucket does not hold yet are uploaded."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from labelgraph_demo.samples import Sample

DEMO_FILE = "demo.json"


def demo_began(state: Path, now: datetime) -> datetime:
    """When the demo in `state` first ran (its images' clock), recorded there on the first run."""
    record = state / DEMO_FILE
    try:
        return datetime.fromisoformat(json.loads(record.read_text())["began"])
    except FileNotFoundError:
        state.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"began": now.isoformat()}) + "\n")
        return now


def stored_keys(s3: Any, bucket: str, prefix: str = "") -> set[str]:
    """Every key in the bucket under `prefix`."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def not_stored(samples: Iterable[Sample], stored: set[str]) -> list[Sample]:
    return [sample for sample in samples if sample.key not in stored]
