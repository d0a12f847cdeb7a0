"""The label topic and its dead-letter topic."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from labelgraph_kafka import kafka_client_options
from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, Status
from labelgraph_provision.settings import ProvisionSettings


async def ensure_topics(settings: ProvisionSettings) -> list[Outcome]:
    """Create the label topics; topics that already exist are left as they are."""
    wanted = {
        settings.label_topic: settings.label_topic_partitions,
        settings.label_dlq_topic: settings.label_dlq_topic_partitions,
    }
    admin = AIOKafkaAdminClient(
        **kafka_client_options(settings.kafka),
        client_id="labelgraph-provision",
        request_timeout_ms=15_000,
    )
    try:
        await admin.start()
        response = await admin.create_topics(
            [
                NewTopic(name, partitions, settings.kafka_replication_factor)
                for name, partitions in wanted.items()
            ]
        )
    finally:
        await admin.close()
    return [_outcome(topic, code) for topic, code, *_ in response.topic_errors]


def _outcome(topic: str, code: int) -> Outcome:
    if code == 0:
        return Outcome("topic", topic, Status.CREATED)
    if code == TopicAlreadyExistsError.errno:
        return Outcome("topic", topic, Status.EXISTED)
    raise ProvisionError(f"could not create topic {topic}: {for_code(code).__name__}")
