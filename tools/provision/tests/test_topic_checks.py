"""Topics: created with their settings, and an existing topic checked against what was asked
(against the embedded broker, Tansu, under random names)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from labelgraph_kafka import kafka_client_options
from labelgraph_provision import ProvisionError, ProvisionSettings, Status, provision

pytestmark = pytest.mark.stack


async def _admin_call(settings: ProvisionSettings, call):  # type: ignore[no-untyped-def]
    admin = AIOKafkaAdminClient(**kafka_client_options(settings.kafka))
    await admin.start()
    try:
        return await call(admin)
    finally:
        await admin.close()


def _create(settings: ProvisionSettings, topic: NewTopic) -> None:
    """A topic made before provisioning ran, as a client's auto-creation or a person made it."""
    asyncio.run(_admin_call(settings, lambda admin: admin.create_topics([topic])))


def _max_message_bytes(settings: ProvisionSettings, topic: str) -> str | None:
    async def describe(admin: AIOKafkaAdminClient) -> str | None:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_, _, _, _, entries)] = response.resources
        return {name: value for name, value, *_ in entries}.get("max.message.bytes")

    return asyncio.run(_admin_call(settings, describe))


def test_both_topics_are_created_with_max_message_bytes_set(
        settings: ProvisionSettings) -> None:
    provision(settings, only="kafka")

    assert _max_message_bytes(settings, settings.label_topic) == "1048588"
    assert _max_message_bytes(settings, settings.label_dlq_topic) == "1048588"


def test_an_existing_topic_unlike_the_asked_one_is_reported_with_every_difference(
        settings: ProvisionSettings) -> None:
    # What Tansu auto-creates when a client asks: 4 partitions, no configs of its own.
    _create(settings, NewTopic(settings.label_topic, 4, 2))

    report = provision(settings, only="kafka")

    [labels, dead_letters] = report.outcomes
    assert labels.status is Status.EXISTED
    assert labels.differences == (
        "4 partitions where 6 were asked",
        "replication factor 2 where 1 was asked",
        "max.message.bytes not checked: the broker does not report it (Tansu reports only "
        "configs set at creation)",
    )
    assert str(labels).startswith(f"topic {settings.label_topic} already exists, but: 4 "
                                  "partitions where 6 were asked; replication factor 2")
    assert (dead_letters.status, dead_letters.differences) == (Status.CREATED, ())


def test_a_topic_as_asked_shows_no_difference(settings: ProvisionSettings) -> None:
    provision(settings, only="kafka")

    again = provision(settings, only="kafka")

    assert [(o.status, o.differences) for o in again.outcomes] == [(Status.EXISTED, ())] * 2


def test_a_larger_max_message_bytes_is_a_difference_not_an_error(
        settings: ProvisionSettings) -> None:
    _create(settings, NewTopic(settings.label_dlq_topic, 3, 1,
                               topic_configs={"max.message.bytes": "2000000"}))

    [_, dead_letters] = provision(settings, only="kafka").outcomes

    assert dead_letters.differences == ("max.message.bytes 2000000 where 1048588 was asked",)


def test_a_topic_whose_messages_are_too_small_for_an_event_is_refused(
        settings: ProvisionSettings) -> None:
    _create(settings, NewTopic(settings.label_topic, 6, 1,
                               topic_configs={"max.message.bytes": "1000"}))

    with pytest.raises(ProvisionError) as refused:
        provision(settings, only="kafka")

    assert str(refused.value) == (
        f"topic {settings.label_topic} takes messages of at most 1,000 bytes "
        "(max.message.bytes), below the 1,048,588 the contract's largest event needs: run "
        f"kafka-configs.sh --bootstrap-server {settings.kafka.kafka_bootstrap_servers} "
        f"--alter --entity-type topics --entity-name {settings.label_topic} "
        "--add-config max.message.bytes=1048588")
