"""More graph-writers than partitions (`up --scale graph-writer=N`): the spare member of
the group idles and is ready, so `up --wait` returns (issue 13)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.stack


def ready(ops_url: str) -> bool:
    return httpx.get(f"{ops_url}/ready", timeout=10).status_code == 200


def test_two_writers_on_a_one_partition_topic_are_both_ready(private_broker, writer_thread,
                                                              helpers):
    kit, _ = private_broker
    topic = kit.fresh_topic(partitions=1)
    first = kit.settings(topic)
    second = kit.settings(topic, consumer_group=first.consumer_group)
    with writer_thread(first) as one, writer_thread(second) as other:
        helpers.wait_for(lambda: ready(one.ops_url) and ready(other.ops_url), timeout=30)
        # Both stay ready once the group has settled (one holds the partition).
        assert ready(one.ops_url) and ready(other.ops_url)
        for writer in (one, other):
            assert httpx.get(f"{writer.ops_url}/health", timeout=10).status_code == 200
