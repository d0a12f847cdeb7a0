"""A worker whose ops port is taken stops with one line that names it, not a traceback."""

import asyncio
import subprocess
import sys

import pytest

from labelgraph_devstack import ports
from labelgraph_observability import OpsPortUnavailable, OpsServer

SERVE_ON = """
import asyncio, sys
from labelgraph_observability import OpsServer

async def ready():
    return None

asyncio.run(OpsServer("127.0.0.1", int(sys.argv[1]), ready).start())
"""


async def always_ready() -> str | None:
    return None


@pytest.fixture
def held_port():
    with ports.held_port() as port:
        yield port


def test_a_taken_port_is_refused_with_its_address(held_port):
    with pytest.raises(OpsPortUnavailable) as refused:
        asyncio.run(OpsServer("127.0.0.1", held_port, always_ready).start())
    assert f"127.0.0.1:{held_port}" in str(refused.value.code)
    assert "in use" in str(refused.value.code)


def test_a_process_with_a_taken_port_exits_non_zero_with_one_line(held_port):
    result = subprocess.run([sys.executable, "-c", SERVE_ON, str(held_port)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"cannot serve the ops endpoints on 127.0.0.1:{held_port}: Address already in use "
        "(another process holds it? set the service's *_OPS_PORT)"]
