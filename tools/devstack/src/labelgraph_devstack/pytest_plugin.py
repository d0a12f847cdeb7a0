"""The embedded stack as pytest fixtures, started once per session on demand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labelgraph_devstack.stack import EmbeddedStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """The started, provisioned stack; a component that cannot start errors the test."""
    with EmbeddedStack(tmp_path_factory.mktemp("devstack")) as started:
        yield started


@pytest.fixture
def stack_env(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stack's variables set in os.environ for one test (boto3 reads only os.environ)."""
    env = stack.env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
