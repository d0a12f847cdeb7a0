"""`labelgraph-devstack up` in a real subprocess: env, refusal, SIGTERM and SIGKILL."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelgraph_devstack.polling import wait_for

pytestmark = pytest.mark.stack


class Up:
    """A running `python -m labelgraph_devstack up` with its output in a file."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.output = state_dir.parent / "up.out"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "labelgraph_devstack", "up", "--state-dir", str(state_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, timeout: float = 60) -> None:
        def started() -> bool:
            assert self.process.poll() is None, self.output.read_text()  # died: say why now
            return "Ctrl-C stops everything" in self.output.read_text()

        wait_for(started, timeout, what=f"the ready line in {self.output}")

    def children(self) -> list[int]:
        tasks = Path(f"/proc/{self.process.pid}/task").glob("*/children")
        return [int(pid) for task in tasks for pid in task.read_text().split()]


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "state")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def _devstack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelgraph_devstack", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # killed; reaped later by whoever adopted it


def _wait_dead(pids: list[int], timeout: float = 10) -> None:
    wait_for(lambda: all(_dead(pid) for pid in pids), timeout, what=f"the end of {pids}")


def test_up_serves_env_refuses_a_twin_and_stops_on_sigterm(up: Up) -> None:
    up.wait_started()
    children = up.children()

    env = _devstack("env", "--state-dir", str(up.state_dir))
    twin = _devstack("up", "--state-dir", str(up.state_dir))
    up.process.send_signal(signal.SIGTERM)
    code = up.process.wait(timeout=30)
    after = _devstack("env", "--state-dir", str(up.state_dir))

    assert len(children) == 4
    assert env.returncode == 0 and "NEO4J_URI=bolt://127.0.0.1:" in env.stdout
    assert twin.returncode == 1 and "another devstack" in twin.stderr
    assert code == 0
    _wait_dead(children)
    assert after.returncode == 1 and "no devstack is running" in after.stderr


def test_children_die_with_a_sigkilled_parent(up: Up) -> None:
    up.wait_started()
    children = up.children()

    os.kill(up.process.pid, signal.SIGKILL)
    up.process.wait()

    assert len(children) == 4
    _wait_dead(children)
