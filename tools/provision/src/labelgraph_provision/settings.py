"""What to provision, read from environment variables only.

The same variables configure the services, so one dotenv file drives both; this package
avoids pydantic-settings because the compose one-shot job should stay a thin image.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from labelgraph_contract import MAX_RECORD_BYTES
from labelgraph_contract.naming import (
    DEFAULT_DETECTORS,
    ORIGINAL_DETECTOR,
    label_table_name,
    parse_detectors,
)
from labelgraph_kafka import KafkaSettings

# Kafka counts a record batch's offset and length fields (12 bytes) in a topic's
# max.message.bytes: the least that takes the contract's largest record (Kafka's default).
MIN_TOPIC_MESSAGE_BYTES = MAX_RECORD_BYTES + 12


@dataclass(frozen=True)
class ProvisionSettings:
    image_bucket: str = "security-alarms"
    image_queue_name: str = "security-alarms-uploads"
    image_dlq_name: str = "security-alarms-uploads-dlq"
    image_queue_max_receives: int = 5
    image_queue_visibility_timeout: int = 60
    # Fan-out (optional): the bucket notifies this SNS topic, and each queue of
    # image_queue_names gets every upload through a raw subscription (one queue per labeler).
    image_topic_name: str = ""
    image_queue_names: tuple[str, ...] = ()
    label_table: str = "security_alarm_image_label_set"
    # The names of LABELER_DETECTORS: each detector has its own label table.
    detectors: tuple[str, ...] = (ORIGINAL_DETECTOR,)
    verdict_table: str = "security_alarm_image_verdicts"
    label_topic: str = "image-labels"
    label_topic_partitions: int = 6
    label_dlq_topic: str = "image-labels.dlq"
    label_dlq_topic_partitions: int = 3
    # max.message.bytes of both topics, set explicitly so no broker default can undercut it.
    label_topic_max_message_bytes: int = MIN_TOPIC_MESSAGE_BYTES
    # The connection (servers, TLS, SASL) the services use too.
    kafka: KafkaSettings = field(default_factory=lambda: KafkaSettings.from_env({}))
    kafka_replication_factor: int = 1
    aws_region: str = "us-east-1"

    @property
    def upload_queues(self) -> tuple[tuple[str, str], ...]:
        """Each upload queue with its dead-letter queue: IMAGE_QUEUE_NAME alone, or in
        fan-out every queue of IMAGE_QUEUE_NAMES (IMAGE_QUEUE_NAME when empty), each
        dead-lettering to `<queue>-dlq` (IMAGE_DLQ_NAME for IMAGE_QUEUE_NAME)."""
        names = (self.image_queue_names or (self.image_queue_name,)) if self.image_topic_name \
            else (self.image_queue_name,)
        return tuple((name, self.image_dlq_name if name == self.image_queue_name
                      else f"{name}-dlq") for name in names)

    @property
    def label_tables(self) -> tuple[str, ...]:
        """One label table per detector, named as the labeler names them."""
        return tuple(label_table_name(self.label_table, name) for name in self.detectors)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProvisionSettings:
        """Read the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        queue = env.get("IMAGE_QUEUE_NAME", cls.image_queue_name)
        topic = env.get("LABEL_TOPIC", cls.label_topic)
        fan_out = env.get("IMAGE_TOPIC_NAME", "")
        queues = tuple(name.strip() for name in env.get("IMAGE_QUEUE_NAMES", "").split(",")
                       if name.strip())
        if queues and not fan_out:
            raise ValueError("IMAGE_QUEUE_NAMES needs IMAGE_TOPIC_NAME: several queues get "
                             "every upload only through the fan-out topic")
        return cls(
            image_bucket=env.get("IMAGE_BUCKET", cls.image_bucket),
            image_queue_name=queue,
            image_topic_name=fan_out,
            image_queue_names=queues,
            # Dead-letter names follow their source unless set, so renaming one renames both.
            image_dlq_name=env.get("IMAGE_DLQ_NAME", f"{queue}-dlq"),
            image_queue_max_receives=_positive_int(
                env, "IMAGE_QUEUE_MAX_RECEIVES", cls.image_queue_max_receives
            ),
            image_queue_visibility_timeout=_positive_int(
                env, "IMAGE_QUEUE_VISIBILITY_TIMEOUT", cls.image_queue_visibility_timeout
            ),
            label_table=env.get("LABEL_TABLE", cls.label_table),
            detectors=tuple(entry.name for entry in parse_detectors(
                env.get("LABELER_DETECTORS") or DEFAULT_DETECTORS)),
            verdict_table=env.get("VERDICT_TABLE", cls.verdict_table),
            label_topic=topic,
            label_topic_partitions=_positive_int(
                env, "LABEL_TOPIC_PARTITIONS", cls.label_topic_partitions
            ),
            label_dlq_topic=env.get("LABEL_DLQ_TOPIC", f"{topic}.dlq"),
            label_dlq_topic_partitions=_positive_int(
                env, "LABEL_DLQ_TOPIC_PARTITIONS", cls.label_dlq_topic_partitions
            ),
            label_topic_max_message_bytes=_at_least(
                env, "LABEL_TOPIC_MAX_MESSAGE_BYTES", MIN_TOPIC_MESSAGE_BYTES,
                "the contract's largest record with its batch framing"),
            kafka=KafkaSettings.from_env(env),
            kafka_replication_factor=_positive_int(
                env, "KAFKA_REPLICATION_FACTOR", cls.kafka_replication_factor
            ),
            aws_region=env.get("AWS_DEFAULT_REGION") or cls.aws_region,
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _at_least(env: Mapping[str, str], name: str, least: int, why: str) -> int:
    value = _positive_int(env, name, least)
    if value < least:
        raise ValueError(f"{name} must be at least {least} ({why}), got {value}")
    return value
