"""One stack per state directory, enforced with flock so a killed owner frees it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from labelgraph_devstack.errors import NoStackRunningError, StackLockedError

LOCK_NAME = "devstack.lock"


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StackLockedError(
                f"another devstack (pid {owner}) is running in {self._path.parent}: "
                "stop it first or use another --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # Unlocks too; the file stays, an unlocked file means "nobody running".
            os.close(self._fd)
            self._fd = None


def ensure_running(state_dir: Path) -> None:
    """Raise NoStackRunningError unless some process holds the lock of `state_dir`."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise NoStackRunningError(f"no devstack is running in {state_dir}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    finally:
        os.close(fd)
    raise NoStackRunningError(f"no devstack is running in {state_dir}")
