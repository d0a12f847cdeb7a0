"""How the api starts and fails: keys required, the dev flag, an unreachable or slow graph."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_port

pytestmark = pytest.mark.stack


@contextmanager
def api_process(env: dict[str, str], **settings: str) -> Iterator[str]:
    """The api as a real process with these settings; yields its URL once /health answers."""
    port = free_port()
    full = {**os.environ, **env, "API_PORT": str(port), **settings}
    full = {name: value for name, value in full.items() if value != "<unset>"}
    process = subprocess.Popen([sys.executable, "-m", "labelgraph_api"], env=full,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        def answers() -> bool:
            assert process.poll() is None, process.communicate()[0].decode()
            try:
                httpx.get(f"{url}/health", timeout=2)  # any answer: some tests expect a 503
                return True
            except httpx.TransportError:
                return False

        # Fails after the timeout rather than handing a test an api that never started.
        wait_for(answers, 30, what=f"the api on {url} answering")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_without_keys_the_api_refuses_to_start(stack):
    env = {**os.environ, **stack.env, "API_PORT": str(free_port())}
    env.pop("API_KEYS", None)
    env.pop("API_INSECURE_NO_AUTH", None)
    done = subprocess.run([sys.executable, "-m", "labelgraph_api"], env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode != 0
    # One line saying why, not a traceback.
    assert done.stderr.strip().splitlines() == [
        "API_KEYS is empty: set keys, or API_INSECURE_NO_AUTH=true for dev"]


@pytest.mark.parametrize("command", ["restore-verdicts", "adopt-graph-verdicts"])
def test_the_maintenance_commands_need_no_api_key(stack, command):
    # An operator command serves nobody: it used to refuse to run without API_KEYS.
    env = {**os.environ, **stack.env}
    env.pop("API_KEYS", None)
    env.pop("API_INSECURE_NO_AUTH", None)
    done = subprocess.run([sys.executable, "-m", "labelgraph_api", command], env=env,
                          timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.fullmatch(rf"{command}: \d+ verdicts", done.stdout.splitlines()[-1])


def test_the_insecure_dev_flag_serves_without_a_key(stack):
    with api_process(stack.env, API_KEYS="<unset>", API_INSECURE_NO_AUTH="true") as url:
        assert httpx.get(f"{url}/cameras", timeout=10).status_code == 200
        assert httpx.get(f"{url}/cameras", headers={"X-API-Key": "any"},
                         timeout=10).status_code == 200


def test_an_unreachable_graph_means_not_ready_and_503_not_a_crash(stack):
    closed = f"bolt://127.0.0.1:{free_port()}"
    with api_process(stack.env, NEO4J_URI=closed, API_KEYS="k",
                     API_QUERY_TIMEOUT_SECONDS="4") as url:
        ready = httpx.get(f"{url}/ready", timeout=30)
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        cameras = _get(url, "/cameras")
        assert cameras.status_code == 503 and cameras.json() == {"detail": "graph unavailable"}


def test_a_query_slower_than_the_timeout_answers_504(stack):
    with api_process(stack.env, API_KEYS="k", API_QUERY_TIMEOUT_SECONDS="0.0001") as url:
        response = _get(url, "/labels")
        assert response.status_code == 504
        assert "exceeded" in response.json()["detail"]


def _get(url: str, path: str) -> Any:
    return httpx.get(f"{url}{path}", headers={"X-API-Key": "k"}, timeout=60)
