"""The label topic and its dead-letter topic: created as asked, or checked if they exist."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion, TopicAlreadyExistsError, for_code

from labelgraph_kafka import kafka_client_options
from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, Status
from labelgraph_provision.settings import MIN_TOPIC_MESSAGE_BYTES, ProvisionSettings

MAX_MESSAGE_BYTES = "max.message.bytes"


@dataclass(frozen=True)
class TopicSpec:
    """A topic as provisioning makes it."""

    name: str
    partitions: int
    replication_factor: int
    max_message_bytes: int

    def new_topic(self) -> NewTopic:
        return NewTopic(self.name, self.partitions, self.replication_factor,
                        topic_configs={MAX_MESSAGE_BYTES: str(self.max_message_bytes)})


@dataclass(frozen=True)
class TopicFound:
    """An existing topic as the broker describes it."""

    partitions: int
    replication_factor: int
    # The value, or why it could not be read (the broker does not describe configs).
    max_message_bytes: int | str


async def ensure_topics(settings: ProvisionSettings) -> list[Outcome]:
    """Create the label topics; an existing one is described and every difference from
    what was asked reported. Raises ProvisionError for a topic whose max.message.bytes is
    too small for the contract's events, saying how to raise it."""
    wanted = [
        TopicSpec(name, partitions, settings.kafka_replication_factor,
                  settings.label_topic_max_message_bytes)
        for name, partitions in ((settings.label_topic, settings.label_topic_partitions),
                                 (settings.label_dlq_topic, settings.label_dlq_topic_partitions))
    ]
    admin = AIOKafkaAdminClient(
        **kafka_client_options(settings.kafka),
        client_id="labelgraph-provision",
        request_timeout_ms=15_000,
    )
    try:
        await admin.start()
        response = await admin.create_topics([spec.new_topic() for spec in wanted])
        codes = {topic: code for topic, code, *_ in response.topic_errors}
        found = {spec.name: await _describe(admin, spec.name) for spec in wanted
                 if _created_or_existed(spec.name, codes[spec.name]) is Status.EXISTED}
    finally:
        await admin.close()
    _refuse_too_small(wanted, found, settings.kafka.kafka_bootstrap_servers)
    return [Outcome("topic", spec.name, Status.EXISTED, _differences(spec, found[spec.name]))
            if spec.name in found else Outcome("topic", spec.name, Status.CREATED)
            for spec in wanted]


def _differences(asked: TopicSpec, found: TopicFound) -> tuple[str, ...]:
    """Every way an existing topic differs from what was asked, or could not be checked."""
    said = []
    if found.partitions != asked.partitions:
        said.append(f"{found.partitions} partitions where {asked.partitions} were asked")
    if found.replication_factor != asked.replication_factor:
        said.append(f"replication factor {found.replication_factor} where "
                    f"{asked.replication_factor} was asked")
    if isinstance(found.max_message_bytes, str):
        said.append(f"{MAX_MESSAGE_BYTES} not checked: {found.max_message_bytes}")
    elif found.max_message_bytes != asked.max_message_bytes:
        said.append(f"{MAX_MESSAGE_BYTES} {found.max_message_bytes} where "
                    f"{asked.max_message_bytes} was asked")
    return tuple(said)


def _created_or_existed(topic: str, code: int) -> Status:
    if code == 0:
        return Status.CREATED
    if code == TopicAlreadyExistsError.errno:
        return Status.EXISTED
    raise ProvisionError(f"could not create topic {topic}: {for_code(code).__name__}")


async def _describe(admin: AIOKafkaAdminClient, topic: str) -> TopicFound:
    [described] = await admin.describe_topics([topic])
    if described["error_code"]:
        raise ProvisionError(f"could not describe topic {topic}: "
                             f"{for_code(described['error_code']).__name__}")
    partitions = described["partitions"]
    # The fewest replicas of any partition: the durability the topic actually has.
    replication = min(len(partition["replicas"]) for partition in partitions)
    return TopicFound(len(partitions), replication, await _max_message_bytes(admin, topic))


async def _max_message_bytes(admin: AIOKafkaAdminClient, topic: str) -> int | str:
    """The topic's max.message.bytes, or why the broker did not say."""
    try:
        # All configs: Tansu 0.6 cannot parse a request naming some (it drops the connection).
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)])
    except IncompatibleBrokerVersion:
        return "the broker does not describe topic configs (no DescribeConfigs)"
    [(code, _, _, _, entries)] = response.resources
    if code:
        return f"the broker refused to describe its configs ({for_code(code).__name__})"
    values = {name: value for name, value, *_ in entries}
    if values.get(MAX_MESSAGE_BYTES) is None:
        return "the broker does not report it (Tansu reports only configs set at creation)"
    return int(values[MAX_MESSAGE_BYTES])


def _refuse_too_small(wanted: list[TopicSpec], found: dict[str, TopicFound],
                      servers: str) -> None:
    refusals = [refusal for spec in wanted if spec.name in found
                if (refusal := _too_small(spec, found[spec.name], servers))]
    if refusals:
        raise ProvisionError("; ".join(refusals))


def _too_small(asked: TopicSpec, found: TopicFound, servers: str) -> str | None:
    """Why the topic cannot carry the contract's events, with the command that fixes it.

    Fatal, unlike the other differences: the broker would refuse a record the labeler may
    send, so that event could never be delivered.
    """
    got = found.max_message_bytes
    if isinstance(got, str) or got >= MIN_TOPIC_MESSAGE_BYTES:
        return None
    return (f"topic {asked.name} takes messages of at most {got:,} bytes "
            f"({MAX_MESSAGE_BYTES}), below the {MIN_TOPIC_MESSAGE_BYTES:,} the contract's "
            f"largest event needs: run kafka-configs.sh --bootstrap-server {servers} --alter "
            f"--entity-type topics --entity-name {asked.name} "
            f"--add-config {MAX_MESSAGE_BYTES}={asked.max_message_bytes}")
