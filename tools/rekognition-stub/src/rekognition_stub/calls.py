"""Counts of DetectLabels calls served, for tests that assert an image was labelled once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallLog:
    """Thread-safe tallies of calls: in total, per S3 object and per outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_key: Counter[str] = Counter()
        self._by_outcome: Counter[str] = Counter()

    def record(self, object_name: str | None, outcome: str) -> None:
        """Count one call: object_name is 'bucket/key' (None for inline bytes)."""
        with self._lock:
            self._total += 1
            self._by_outcome[outcome] += 1
            if object_name is not None:
                self._by_key[object_name] += 1

    def snapshot(self) -> dict[str, Any]:
        """The tallies as JSON."""
        with self._lock:
            return {
                "total": self._total,
                "by_key": dict(self._by_key),
                "by_outcome": dict(self._by_outcome),
            }

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._total = 0
            self._by_key.clear()
            self._by_outcome.clear()
