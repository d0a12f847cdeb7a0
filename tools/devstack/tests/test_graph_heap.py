"""The graph's Java heap is a setting: 3g by default (a million images), more or less by
choice."""

from pathlib import Path

import pytest

from labelgraph_devstack import DevstackError, EmbeddedStack
from labelgraph_devstack.graph import graph_heap


@pytest.mark.stack
def test_the_graph_process_gets_the_heap_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSTACK_GRAPH_HEAP", "320m")
    with EmbeddedStack(tmp_path) as stack:
        argv = Path(f"/proc/{stack.pids['graph']}/cmdline").read_bytes().split(b"\0")

    assert [arg for arg in argv if arg.startswith(b"-Xmx")] == [b"-Xmx320m"]


def test_an_argument_beats_the_environment_which_beats_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEVSTACK_GRAPH_HEAP", raising=False)
    assert graph_heap(None) == "3g"
    monkeypatch.setenv("DEVSTACK_GRAPH_HEAP", "2g")
    assert graph_heap(None) == "2g"
    assert graph_heap("1536m") == "1536m"


@pytest.mark.parametrize("heap", ["lots", "2 g", "0m", "2gb", "-1g"])
def test_a_malformed_heap_is_refused_before_anything_starts(tmp_path: Path, heap: str) -> None:
    stack = EmbeddedStack(tmp_path, graph_heap=heap)

    with pytest.raises(DevstackError, match="graph heap"):
        stack.start()

    assert stack.pids == {}
