"""Starting, stopping and restarting leave the right processes, and only those."""

import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import neo4j
import pytest
from neo4j.exceptions import ServiceUnavailable

from labelgraph_devstack import (
    ComponentStartError,
    EmbeddedStack,
    MissingDependencyError,
    PortInUseError,
    StackLockedError,
    StackPorts,
)
from labelgraph_devstack import aws as aws_component
from labelgraph_devstack.lock import StateLock
from labelgraph_devstack.ports import held_port
from labelgraph_devstack.process import Spawner
from labelgraph_devstack.spec import ComponentSpec, package_dir


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _running_in(directory: Path) -> list[int]:
    """Live processes whose working directory is `directory`: the stack's children."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(proc / "cwd").readlink() == directory and _alive(int(proc.name)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.stack
def test_the_graph_keeps_its_data_across_stop_and_start(stack: EmbeddedStack) -> None:
    env = stack.env
    auth = (env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    camera = uuid.uuid4().hex
    with neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver:
        driver.execute_query("CREATE (:Camera {id: $id})", id=camera)
    old_pid = stack.pids["graph"]

    stack.stop_graph()
    with (
        neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver,
        pytest.raises(ServiceUnavailable),
    ):
        driver.verify_connectivity()
    stack.start_graph()

    assert not _alive(old_pid)
    assert stack.pids["graph"] != old_pid
    assert stack.env == env
    with neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (c:Camera {id: $id}) RETURN count(c) AS n", id=camera
        )
    assert records[0]["n"] == 1


@pytest.mark.stack
def test_reset_aws_empties_moto_and_provisions_again(
    stack: EmbeddedStack, stack_env: dict[str, str]
) -> None:
    s3 = boto3.client("s3")
    bucket = stack_env["IMAGE_BUCKET"]
    s3.put_object(Bucket=bucket, Key=f"left-over/{uuid.uuid4().hex}", Body=b"x")

    report = stack.reset_aws()

    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert [o.kind for o in report.created] == [
        "bucket",
        "queue",
        "queue",
        "bucket notification",
        "table",
        "table",
    ]


@pytest.mark.stack
def test_stop_leaves_no_process_and_frees_the_state_dir(tmp_path: Path) -> None:
    stack = EmbeddedStack(tmp_path).start()
    try:
        pids = stack.pids
        with pytest.raises(StackLockedError, match="another devstack"):
            EmbeddedStack(tmp_path).start()
        assert stack.env_file.exists()
    finally:
        stack.stop()

    assert sorted(pids) == ["aws", "graph", "kafka", "rekognition"]
    assert [name for name, pid in pids.items() if _alive(pid)] == []
    assert _running_in(tmp_path) == []
    assert not stack.env_file.exists()


@pytest.mark.stack
def test_a_failed_start_names_the_component_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_moto(port: int) -> ComponentSpec:
        argv = (sys.executable, "-c", "print('cannot serve S3 today'); raise SystemExit(3)")
        return ComponentSpec("aws", "AWS (moto)", "", argv, port, lambda: False)

    monkeypatch.setattr(aws_component, "moto", broken_moto)
    stack = EmbeddedStack(tmp_path)

    with pytest.raises(ComponentStartError) as failure:
        stack.start()

    message = str(failure.value)
    assert "AWS (moto) failed to start on 127.0.0.1:" in message
    assert "exited with code 3" in message
    assert "cannot serve S3 today" in message
    assert _running_in(tmp_path) == []
    StateLock(tmp_path).acquire()  # released by the failed start


def test_a_fixed_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with held_port() as port:
        stack = EmbeddedStack(tmp_path, ports=StackPorts(kafka=port))

        with pytest.raises(PortInUseError, match=f"port {port} for Kafka"):
            stack.start()

    assert stack.pids == {}


def test_a_missing_package_says_how_to_install_it() -> None:
    with pytest.raises(MissingDependencyError, match="no-such-dist is not installed: run `make"):
        package_dir("no_such_module_for_devstack", "no-such-dist")


def test_a_child_outlives_the_thread_that_asked_for_it(tmp_path: Path) -> None:
    spawner = Spawner()
    started = []

    def ask() -> None:
        started.append(
            spawner.popen(
                [sys.executable, "-c", "import time; time.sleep(30)"],
                env={},
                cwd=tmp_path,
                log=tmp_path / "child.log",
            )
        )

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join()
    time.sleep(0.5)  # PDEATHSIG would have struck by now, had the asker been the parent

    [child] = started
    try:
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
        spawner.close()


@pytest.mark.stack
def test_a_relative_state_dir_starts_fresh_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run` passes .devstack: the servers must see the same folder, and a second run
    # must not inherit the first one's graph users (a new password each run).
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        with EmbeddedStack(Path("state")) as stack:
            env = stack.env
            with neo4j.GraphDatabase.driver(
                env["NEO4J_URI"], auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])
            ) as driver:
                driver.verify_connectivity()
    assert not (tmp_path / "state" / "state").exists()
