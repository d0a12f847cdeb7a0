"""How an ImageLabeled travels on Kafka: topic names, key, value and headers."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from labelgraph_contract.events import SCHEMA_VERSION, ImageLabeled

LABEL_TOPIC = "image-labels"
LABEL_DLQ_TOPIC = "image-labels.dlq"

CONTENT_TYPE = "application/json"
HEADER_CONTENT_TYPE = "content-type"
HEADER_SCHEMA_VERSION = "schema-version"
HEADER_EVENT_TYPE = "event-type"
EVENT_TYPE = "ImageLabeled"

# What a consumer adds to a message it dead-letters on LABEL_DLQ_TOPIC, beside the original
# key, value and headers: why, and where the message was.
HEADER_DLQ_REASON = "dlq-reason"
HEADER_DLQ_TOPIC = "dlq-topic"
HEADER_DLQ_PARTITION = "dlq-partition"
HEADER_DLQ_OFFSET = "dlq-offset"

Headers = list[tuple[str, bytes]]

# The largest message value the contract permits: the event's JSON, in bytes. The field
# bounds alone would allow tens of megabytes (1,000 labels of 100 boxes and 32 parents each),
# which no broker takes; a producer trims or refuses before it writes anything.
MAX_EVENT_BYTES = 1_000_000
# What a topic's max.message.bytes and a producer's max_request_size must allow at least: the
# largest value, its key (at most 1,024 bytes), headers and a record batch's framing. Kafka's
# defaults (1,048,588 and 1,048,576) do.
MAX_RECORD_BYTES = 1_048_576


@dataclass(frozen=True)
class KafkaRecord:
    """An event ready to send: key, value and headers as bytes."""

    key: bytes
    value: bytes
    headers: Headers


class EventTooLarge(ValueError):
    """An event whose JSON is over MAX_EVENT_BYTES: no topic of the contract carries it."""


class InvalidEvent(ValueError):
    """A message that is not a valid ImageLabeled; `reason` says why, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_event(event: ImageLabeled) -> KafkaRecord:
    """The record for an event: keyed by object key so one image's events stay ordered;
    EventTooLarge over MAX_EVENT_BYTES."""
    value = event.model_dump_json().encode()
    if len(value) > MAX_EVENT_BYTES:
        raise EventTooLarge(f"the event is {len(value):,} bytes of JSON, over the contract's "
                            f"{MAX_EVENT_BYTES:,}")
    return KafkaRecord(
        key=event.object_key.encode(),
        value=value,
        headers=[
            (HEADER_CONTENT_TYPE, CONTENT_TYPE.encode()),
            (HEADER_SCHEMA_VERSION, str(SCHEMA_VERSION).encode()),
            (HEADER_EVENT_TYPE, EVENT_TYPE.encode()),
        ],
    )


def decode_event(value: bytes | None) -> ImageLabeled:
    """Parse and validate a message value, or raise InvalidEvent with a readable reason."""
    if value is None:
        raise InvalidEvent("message has no value (tombstone)")
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"message value of {len(value):,} bytes, over the contract's "
                           f"{MAX_EVENT_BYTES:,}")
    try:
        return ImageLabeled.model_validate_json(value)
    except ValidationError as error:
        raise InvalidEvent(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "message"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
