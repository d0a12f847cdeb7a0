"""The publisher's record limit is the contract's MAX_RECORD_BYTES, not a default that
happens to match it today (against the embedded broker)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from labelgraph_devstack.testing import create_topics, labelled_event
from labelgraph_kafka import KafkaSettings
from labelgraph_labeler.adapters import kafka as publisher_module
from labelgraph_labeler.adapters.kafka import LabelPublisher, PublishFailed

pytestmark = pytest.mark.stack


def test_the_publishers_record_limit_follows_the_contract(stack_env, monkeypatch):
    # Were the contract's limit this small, an ordinary event would be refused before it
    # left the process: the producer takes its limit from the contract's constant.
    monkeypatch.setattr(publisher_module, "MAX_RECORD_BYTES", 200)
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"record-size-{uuid.uuid4().hex[:10]}"
    asyncio.run(create_topics(bootstrap, [topic], partitions=1))

    async def publish() -> None:
        publisher = LabelPublisher(KafkaSettings.from_env(stack_env), topic,
                                   timeout_seconds=10, check_seconds=5)
        await publisher.start()
        try:
            await publisher.publish(labelled_event("cam/2026-12-07/size.jpg", {"Person": 99.0}))
        finally:
            await publisher.stop()

    with pytest.raises(PublishFailed, match="MessageSizeTooLarge"):
        asyncio.run(publish())
