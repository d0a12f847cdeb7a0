"""The durable stack's one state folder: what lives where, and what must be kept between
starts beside the data (the graph's passwords, Tansu's bucket)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex
from typing import Any

from labelgraph_devstack.errors import DevstackError

STATE_FOLDER = "state"
TANSU_BUCKET = "devstack-tansu"


@dataclass(frozen=True)
class StateLayout:
    """Everything that must survive a stop, under one folder."""

    root: Path

    @classmethod
    def inside(cls, state_dir: Path) -> StateLayout:
        return cls(state_dir / STATE_FOLDER)

    @property
    def objects(self) -> Path:
        """S3 objects, Tansu's topics and offsets among them (ministack)."""
        return self.root / "s3"

    @property
    def queue_snapshot(self) -> Path:
        """Queues, topics and notifications, saved on a graceful stop (ministack)."""
        return self.root / "sqs-sns-snapshot"

    @property
    def tables(self) -> Path:
        """DynamoDB tables (dynalite's LevelDB)."""
        return self.root / "dynamodb"

    @property
    def graph(self) -> Path:
        return self.root / "arcadedb"

    @property
    def graph_credentials(self) -> Path:
        return self.root / "graph-credentials.json"

    def create(self) -> None:
        for folder in (self.objects, self.queue_snapshot, self.tables, self.graph):
            folder.mkdir(parents=True, exist_ok=True)


def graph_passwords(path: Path) -> tuple[str, str]:
    """The graph's root and user passwords: made once, then read back at every start.

    ArcadeDB keeps the users it created with the database, so a new password per start
    would lock the services out of the kept graph.
    """
    try:
        saved: dict[str, Any] = json.loads(path.read_text())
        return str(saved["root_password"]), str(saved["password"])
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError):
        raise DevstackError(
            f"{path} is damaged: restore it, or start from nothing with `make reset`"
        ) from None
    root_password, password = token_hex(16), token_hex(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"root_password": root_password, "password": password}))
    partial.chmod(0o600)
    partial.replace(path)
    return root_password, password


def ensure_bucket(s3: Any, bucket: str) -> None:
    """Tansu refuses to start on a bucket that does not exist."""
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
