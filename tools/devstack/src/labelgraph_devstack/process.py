"""Child processes that never outlive the stack: own process group, PDEATHSIG, log file."""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


class Spawner:
    """Forks every child from one long-lived thread.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process:
    a child started from asyncio.to_thread or an executor would be killed as soon as that
    worker thread retired. This daemon thread lives until the stack closes it (or the
    process dies, which is exactly when the children should die too).
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="devstack-spawner", daemon=True)
        self._thread.start()

    def popen(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
    ) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((lambda: _popen(argv, env, cwd, log), future))
        return future.result()

    def close(self) -> None:
        """End the thread: children still running die with it, so stop them first."""
        self._jobs.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            run, future = job
            try:
                future.set_result(run())
            except BaseException as exc:  # handed to the caller, who re-raises it
                future.set_exception(exc)


def _popen(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    die_with_parent = _pdeathsig_hook(os.getpid())
    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            # Own session and group: a terminal's Ctrl-C reaches only us (we stop the
            # children in order), and killpg also reaches anything a child forks.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def _pdeathsig_hook(parent: int) -> Callable[[], None]:
    prctl = _prctl()  # resolved before fork: the child must not load libraries

    def die_with_parent() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(126)
        # The parent may have died between fork and prctl: then no signal would come.
        if os.getppid() != parent:
            os._exit(1)

    return die_with_parent


@cache
def _prctl() -> Callable[..., int]:
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def log_tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log, read from its end so a huge log costs nothing."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16_384))
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
    except FileNotFoundError:
        return "(no log written)"


class ManagedProcess:
    """One child: started, checked, and stopped with SIGTERM, then SIGKILL."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        return self._popen.poll()

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def reap(self, timeout: float) -> None:
        """Wait up to `timeout` for a clean exit, then kill; always leave no one behind."""
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self._popen.wait()
        # Whatever the child forked into its group dies with it.
        self._signal_group(signal.SIGKILL)

    def stop(self, timeout: float) -> None:
        self.terminate()
        self.reap(timeout)

    def _signal_group(self, sig: signal.Signals) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self._popen.pid, sig)
