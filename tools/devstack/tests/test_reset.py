"""`reset` lists what it deletes, deletes only when told, and never under a running stack."""

from pathlib import Path

import pytest

from labelgraph_devstack import StackLockedError
from labelgraph_devstack.durable import StateLayout
from labelgraph_devstack.lock import StateLock
from labelgraph_devstack.reset import reset


@pytest.fixture
def layout(tmp_path: Path) -> StateLayout:
    layout = StateLayout.inside(tmp_path)
    layout.create()
    (layout.objects / "photo.jpg").write_bytes(b"x" * 2_000_000)
    return layout


def test_reset_names_each_part_with_its_size_then_deletes(layout, capsys) -> None:
    assert reset(layout.root.parent, confirm=lambda: True) == 0

    said = capsys.readouterr().out
    assert f"{layout.objects}  images and Kafka's topics and offsets (S3), 2.0 MB" in said
    assert f"{layout.graph}  the graph, 0.0 MB" in said
    assert not layout.root.exists()


def test_reset_deletes_nothing_without_a_yes(layout) -> None:
    assert reset(layout.root.parent, confirm=lambda: False) == 1
    assert (layout.objects / "photo.jpg").exists()


def test_reset_refuses_while_a_stack_runs_on_the_folder(layout) -> None:
    running = StateLock(layout.root.parent)
    running.acquire()
    try:
        with pytest.raises(StackLockedError):
            reset(layout.root.parent, confirm=lambda: True)
    finally:
        running.release()
    assert (layout.objects / "photo.jpg").exists()
