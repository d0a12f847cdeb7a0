"""The three labelgraph services as real processes, wired to a running stack's environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICE_COMMANDS = {
    "labeler": ["-m", "labelgraph_labeler", "run"],
    "graph-writer": ["-m", "labelgraph_graph_writer", "run"],
    "api": ["-m", "labelgraph_api"],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcesses:
    """Starts labeler, graph-writer and api as subprocesses; stops them all together."""

    stack_env: dict[str, str]
    log_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, names: tuple[str, ...] = tuple(SERVICE_COMMANDS),
              ready_timeout: float = 60) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.stack_env, "API_PORT": str(self.api_port),
               **self.extra_env}
        for name in names:
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.processes[name] = subprocess.Popen(
                [sys.executable, *SERVICE_COMMANDS[name]], env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        if "api" in names:
            self._wait_for_api(ready_timeout)

    def _wait_for_api(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_exited()
            try:
                if httpx.get(f"{self.api_url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"api not ready after {timeout}s: see {self.log_dir}/api.log")

    def _raise_if_exited(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text()[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM each (they finish what is in hand), then SIGKILL what is left."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> ServiceProcesses:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
