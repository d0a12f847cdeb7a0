"""The image-labels contract shared by every labelgraph service: one model, defined once."""

from labelgraph_contract.events import (
    SCHEMA_VERSION,
    BoundingBox,
    DetectedLabel,
    ImageLabeled,
    LabelInstance,
    captured_fields,
    labelling_event_id,
)
from labelgraph_contract.wire import (
    LABEL_DLQ_TOPIC,
    LABEL_TOPIC,
    InvalidEvent,
    KafkaRecord,
    decode_event,
    encode_event,
)

__all__ = [
    "LABEL_DLQ_TOPIC",
    "LABEL_TOPIC",
    "SCHEMA_VERSION",
    "BoundingBox",
    "DetectedLabel",
    "ImageLabeled",
    "InvalidEvent",
    "KafkaRecord",
    "LabelInstance",
    "captured_fields",
    "decode_event",
    "encode_event",
    "labelling_event_id",
]
