"""The label publisher against the real broker: what can never be published is refused for
good, and the events beside it still go."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from labelgraph_contract import MAX_EVENT_BYTES, ImageLabeled
from labelgraph_devstack.testing import boxed_labels, labelled_event
from labelgraph_labeler.adapters import kafka as publisher_module
from labelgraph_labeler.adapters.kafka import LabelPublisher, PublishFailed, PublishRefused
from labelgraph_labeler.config import LabelerSettings

pytestmark = pytest.mark.stack


def event(lane, name: str, labels: int = 1) -> ImageLabeled:
    return labelled_event(lane.key(name=name), boxed_labels(labels))


def publishing(lane, work):
    async def go():
        publisher = LabelPublisher(LabelerSettings(), lane.topic, timeout_seconds=10,
                                   check_seconds=5)
        await publisher.start()
        try:
            return await work(publisher)
        finally:
            await publisher.stop()
    return asyncio.run(go())


def test_an_event_no_topic_takes_is_refused_for_good_and_the_others_still_go(lane):
    small, oversized, after = event(lane, "small"), event(lane, "big", 1000), event(lane, "after")
    assert len(oversized.model_dump_json()) > MAX_EVENT_BYTES

    refused = publishing(lane, lambda publisher: publisher.publish_all([small, oversized, after]))

    assert [(refusal.object_key, "over the contract's 1,000,000" in why)
            for refusal, why in refused] == [(oversized.object_key, True)]
    published = lane.events(lambda got: len(got) >= 2)
    assert sorted(e.object_key for e in published) == sorted([small.object_key,
                                                              after.object_key])


def test_publishing_one_refused_event_raises_a_permanent_refusal(lane):
    with pytest.raises(PublishRefused) as refusal:
        publishing(lane, lambda publisher: publisher.publish(event(lane, "big", 1000)))
    assert refusal.value.reason == "refused_by_broker"


def test_a_broker_that_says_message_too_large_is_a_refusal_not_an_outage(lane, monkeypatch):
    # Tansu takes any size whatever max.message.bytes says, so the broker's answer is played
    # here: a Kafka broker with a smaller max.message.bytes answers MESSAGE_TOO_LARGE.
    async def too_large(publisher):
        producer = publisher._producer
        real_send = producer.send

        async def send(topic, value=None, key=None, headers=None):
            if b'"big' in key or b"/big" in key:
                answer = asyncio.get_running_loop().create_future()
                answer.set_exception(MessageSizeTooLargeError("the topic takes 100,000"))
                return answer
            return await real_send(topic, value=value, key=key, headers=headers)

        monkeypatch.setattr(producer, "send", send)
        return await publisher.publish_all([event(lane, "big"), event(lane, "fine")])

    refused = publishing(lane, too_large)

    assert [refusal.object_key.split("/")[-1].split("_")[0] for refusal, _ in refused] == ["big"]
    [published] = lane.events(lambda got: len(got) >= 1)
    assert "/fine_" in published.object_key


def test_an_unreachable_broker_is_an_outage_not_a_refusal(lane):
    async def down(publisher):
        await publisher.stop()  # a closed producer: every send fails, none for good
        return await publisher.publish_all([event(lane, "small")])

    with pytest.raises(PublishFailed):
        publishing(lane, down)


def test_the_publishers_record_limit_follows_the_contract(lane, monkeypatch):
    # Were the contract's limit this small, an ordinary event would be refused before it
    # left the process: the producer takes its limit from the contract's constant, not from
    # aiokafka's default that happens to match it today.
    monkeypatch.setattr(publisher_module, "MAX_RECORD_BYTES", 200)

    with pytest.raises(PublishRefused, match="MessageSizeTooLarge"):
        publishing(lane, lambda publisher: publisher.publish(event(lane, "ordinary")))
