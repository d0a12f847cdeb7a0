"""No labelgraph client asks the broker to create a topic: only provisioning makes topics,
with the partitions and settings the contract needs.

A metadata request (v4 and later) carries allow_auto_topic_creation, and a broker with
auto.create.topics.enable creates any topic it names with the broker's defaults (after a
restart, `image-labels` with 4 partitions before provisioning ran). aiokafka 0.14 always
sends True and has no option for it, so the request class its clients build is swapped for
one that sends False. Process-wide (aiokafka builds the request by module-level name), and
harmless for every client: none of ours relies on a topic appearing by itself.
"""

from __future__ import annotations

import aiokafka.admin.client
import aiokafka.client
from aiokafka.protocol.metadata import MetadataRequest

# The modules that build metadata requests: producer and consumer (AIOKafkaClient), and the
# admin client's describe_topics/list_topics.
_BUILDERS = (aiokafka.client, aiokafka.admin.client)


class _MetadataRequestNeverCreating(MetadataRequest):  # type: ignore[misc]
    """aiokafka's metadata request, never allowing the broker to create what it names."""

    def __init__(self, topics: list[str] | None = None,
                 allow_auto_topic_creation: bool | None = None) -> None:
        super().__init__(topics, allow_auto_topic_creation=False)


def never_auto_create_topics() -> None:
    """Make every aiokafka client of this process ask for metadata without auto-creation.
    Idempotent; refuses an aiokafka that no longer builds the request by that name."""
    for module in _BUILDERS:
        if getattr(module, "MetadataRequest", None) not in (
                MetadataRequest, _MetadataRequestNeverCreating):
            raise RuntimeError(f"{module.__name__} no longer builds MetadataRequest: topic "
                               "auto-creation cannot be turned off (labelgraph_kafka.auto_create)")
        module.MetadataRequest = _MetadataRequestNeverCreating
