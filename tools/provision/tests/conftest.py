"""Provisioning tests run against the shared stand-ins, each under names of its own."""

import uuid
from dataclasses import replace

import pytest

from labelgraph_provision import ProvisionSettings


@pytest.fixture
def settings(stack_env: dict[str, str]) -> ProvisionSettings:
    """The stack's settings with a random suffix on every resource, so runs never collide."""
    suffix = uuid.uuid4().hex[:10]
    return replace(
        ProvisionSettings.from_env(stack_env),
        image_bucket=f"alarms-{suffix}",
        image_queue_name=f"uploads-{suffix}",
        image_dlq_name=f"uploads-{suffix}-dlq",
        label_table=f"labels_{suffix}",
        verdict_table=f"verdicts_{suffix}",
        label_topic=f"labels-{suffix}",
        label_dlq_topic=f"labels-{suffix}.dlq",
    )
