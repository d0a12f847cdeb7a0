"""The three labelgraph services as real processes, wired to a running stack's environment:
for the demo, the tests and the benchmarks."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port
from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.process import ManagedProcess, Spawner, log_tail

SERVICE_COMMANDS = {
    "labeler": ["-m", "labelgraph_labeler", "run"],
    "graph-writer": ["-m", "labelgraph_graph_writer", "run"],
    "api": ["-m", "labelgraph_api"],
}


class ServiceDied(RuntimeError):
    """A service process ended while the demo still needed it."""


@dataclass
class ServiceProcesses:
    """Starts labeler, graph-writer and api as subprocesses; stops them all together.

    They are forked like the stack's servers (devstack's Spawner), so they die with this
    process even when it is killed outright.
    """

    stack_env: dict[str, str]
    log_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    # Free ops ports: the defaults (8081, 8082) may be held by another run on the machine.
    labeler_ops_port: int = field(default_factory=free_port)
    graph_writer_ops_port: int = field(default_factory=free_port)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    _spawner: Spawner = field(default_factory=Spawner)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ops_urls(self) -> dict[str, str]:
        """The workers' /health, /ready and /metrics, as variables no service reads."""
        return {"LABELER_OPS_URL": f"http://127.0.0.1:{self.labeler_ops_port}",
                "GRAPH_WRITER_OPS_URL": f"http://127.0.0.1:{self.graph_writer_ops_port}"}

    def start(self, names: tuple[str, ...] = tuple(SERVICE_COMMANDS),
              ready_timeout: float = 60) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.stack_env, "API_PORT": str(self.api_port),
               "LABELER_OPS_PORT": str(self.labeler_ops_port),
               "GRAPH_WRITER_OPS_PORT": str(self.graph_writer_ops_port), **self.extra_env}
        for name in names:
            popen = self._spawner.popen([sys.executable, *SERVICE_COMMANDS[name]], env=env,
                                        cwd=self.log_dir, log=self.log_dir / f"{name}.log")
            self.processes[name] = ManagedProcess(popen)
        if "api" in names:
            self._wait_for_api(ready_timeout)

    def _wait_for_api(self, timeout: float) -> None:
        def ready() -> bool:
            self.raise_if_exited()  # a dead api is told at once, not after the timeout
            return http_ok(f"{self.api_url}/ready")

        try:
            wait_for(ready, timeout, interval=0.2)
        except AssertionError:
            raise TimeoutError(
                f"api not ready after {timeout}s: see {self.log_dir}/api.log") from None

    def running(self) -> bool:
        """True while every service runs, for a wait's condition; ServiceDied if one ended."""
        self.raise_if_exited()
        return True

    def raise_if_exited(self) -> None:
        """Raises ServiceDied, with the end of its log, for the first service that ended."""
        for name, process in self.processes.items():
            code = process.exit_code()
            if code is not None:
                log = self.log_dir / f"{name}.log"
                raise ServiceDied(f"{name} exited with {code} (log: {log}):\n{log_tail(log)}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM each (they finish what is in hand), then SIGKILL what is left."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.reap(timeout)
        self.processes.clear()

    def __enter__(self) -> ServiceProcesses:
        self.start()
        return self

    def close(self) -> None:
        """Stop the services and the thread that forks them."""
        self.stop()
        self._spawner.close()

    def __exit__(self, *exc: object) -> None:
        self.close()
