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
from labelgraph_contract.naming import (
    ORIGINAL_DETECTOR,
    DetectorEntry,
    checkpoint_key_name,
    label_table_name,
    parse_detectors,
)
from labelgraph_contract.wire import (
    LABEL_DLQ_TOPIC,
    LABEL_TOPIC,
    MAX_EVENT_BYTES,
    MAX_RECORD_BYTES,
    EventTooLarge,
    InvalidEvent,
    KafkaRecord,
    decode_event,
    encode_event,
)

__all__ = [
    "LABEL_DLQ_TOPIC",
    "LABEL_TOPIC",
    "MAX_EVENT_BYTES",
    "MAX_RECORD_BYTES",
    "ORIGINAL_DETECTOR",
    "SCHEMA_VERSION",
    "BoundingBox",
    "DetectedLabel",
    "DetectorEntry",
    "EventTooLarge",
    "ImageLabeled",
    "InvalidEvent",
    "KafkaRecord",
    "LabelInstance",
    "captured_fields",
    "checkpoint_key_name",
    "decode_event",
    "encode_event",
    "label_table_name",
    "labelling_event_id",
    "parse_detectors",
]
