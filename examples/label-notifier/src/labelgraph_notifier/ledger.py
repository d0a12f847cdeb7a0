"""The labellings already notified, per target, in a SQLite file.

Durable on its own: offsets alone cannot de-duplicate, since a replay (offsets reset, a new
group) or a re-published event arrives at new offsets with the same event_id. SQLite is in
the standard library, commits atomically to one local file, and survives a crash.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (event_id, target)
)
"""


class DeliveryLedger:
    """One row per (event_id, target) settled: sent, or refused for good."""

    def __init__(self, path: Path) -> None:
        # One thread at a time uses it (the consumer hands each batch to one worker thread).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def settled(self, event_id: str, target: str) -> bool:
        row = self._db.execute("SELECT 1 FROM deliveries WHERE event_id = ? AND target = ?",
                               (event_id, target)).fetchone()
        return row is not None

    def settle(self, event_id: str, target: str, outcome: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?, ?)",
                         (event_id, target, outcome, datetime.now(UTC).isoformat()))

    def close(self) -> None:
        self._db.close()
