"""Following a folder into which cameras drop stills (FTP, SMB): each file imported once it
is complete.

A file arriving over FTP or SMB grows while it is written, and neither protocol says when it
is done: a file counts as complete when a poll finds it with the same size and modification
time as the poll before. Polling, not inotify: change events do not cross SMB or NFS mounts.

Nothing is kept on disk: after a restart every file is looked at again, and the importer
skips what the bucket already holds (by key and content), so no still is imported twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from labelgraph_importer.importing import Importer, Outcome, discover

Signature = tuple[int, int]  # size and modification time (ns): what changes while written


class FolderWatch:
    """One folder polled by hand: each poll imports the files that have stopped changing."""

    def __init__(self, folder: Path, importer: Importer) -> None:
        self._folder, self._importer = folder, importer
        self._last_seen: dict[Path, Signature] = {}
        self._handled: dict[Path, Signature] = {}

    def poll(self) -> list[Outcome]:
        """Import what is complete and new (or changed since it was handled)."""
        seen = {path: signature for path in discover([self._folder])
                if (signature := _signature(path)) is not None}
        ready = [path for path, signature in seen.items()
                 if self._last_seen.get(path) == signature
                 and self._handled.get(path) != signature]
        self._last_seen = seen
        # A file gone from the folder is forgotten: one put back is looked at afresh.
        self._handled = {path: self._handled[path] for path in self._handled if path in seen}
        outcomes = []
        for path in ready:
            outcomes.append(self._importer.import_file(path))
            self._handled[path] = seen[path]
        return outcomes


def follow(watch: FolderWatch, interval: float, stop: threading.Event,
           report: Callable[[Outcome], None]) -> None:
    """Poll every `interval` seconds until `stop` is set, reporting each outcome."""
    while True:
        for outcome in watch.poll():
            report(outcome)
        if stop.wait(interval):
            return


def _signature(path: Path) -> Signature | None:
    try:
        status = path.stat()
    except OSError:  # gone between the listing and the look
        return None
    return status.st_size, status.st_mtime_ns
