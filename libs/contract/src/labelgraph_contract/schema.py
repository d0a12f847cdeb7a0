"""The JSON Schema and AsyncAPI document of the image-labels topic, generated from the model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from labelgraph_contract.bounds import OBJECT_KEY_MAX_BYTES
from labelgraph_contract.events import SCHEMA_VERSION, ImageLabeled
from labelgraph_contract.wire import (
    CONTENT_TYPE,
    EVENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_DLQ_OFFSET,
    HEADER_DLQ_PARTITION,
    HEADER_DLQ_REASON,
    HEADER_DLQ_TOPIC,
    HEADER_EVENT_TYPE,
    HEADER_SCHEMA_VERSION,
    LABEL_DLQ_TOPIC,
    LABEL_TOPIC,
)

SCHEMA_FILE = f"image-labels.v{SCHEMA_VERSION}.json"
ASYNCAPI_FILE = "image-labels.asyncapi.json"
# The AsyncAPI Kafka bindings' version these documents follow.
KAFKA_BINDING_VERSION = "0.5.0"


def json_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one message value."""
    schema = ImageLabeled.model_json_schema(mode="serialization", ref_template=ref_template)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://labelgraph.dev/schemas/{SCHEMA_FILE}",
        **schema,
    }


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 description of the topics: who sends what, keyed how, with which headers."""
    # AsyncAPI keeps the model's sub-schemas beside it under components/schemas.
    schema = json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "labelgraph image-labels",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "One message per labelling of one security-camera image, and the "
                           "dead letters of the messages a consumer could not use.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            "imageLabels": _channel(LABEL_TOPIC, "ImageLabeled"),
            "imageLabelsDeadLetters": _channel(LABEL_DLQ_TOPIC, "DeadLetter"),
        },
        "operations": {
            "publishImageLabeled": _operation("send", "imageLabels", "ImageLabeled",
                                              "The labeler publishes each labelling."),
            "consumeImageLabeled": _operation(
                "receive", "imageLabels", "ImageLabeled",
                "The graph-writer (and any other tool) consumes them; de-duplicate on event_id."),
            "publishDeadLetter": _operation(
                "send", "imageLabelsDeadLetters", "DeadLetter",
                "The graph-writer dead-letters a message it cannot use, with the reason."),
        },
        "components": {
            "messages": {"ImageLabeled": _image_labeled(), "DeadLetter": _dead_letter()},
            "schemas": {"ImageLabeled": schema, **definitions},
        },
    }


def _channel(address: str, message: str) -> dict[str, Any]:
    return {"address": address,
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
            "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING_VERSION}}}


def _operation(action: str, channel: str, message: str, summary: str) -> dict[str, Any]:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
            "summary": summary}


def _image_labeled() -> dict[str, Any]:
    # Exactly the headers encode_event sets, each required.
    headers = {
        HEADER_CONTENT_TYPE: {"type": "string", "const": CONTENT_TYPE,
                              "description": "The value's media type: JSON, UTF-8."},
        HEADER_SCHEMA_VERSION: {"type": "string", "const": str(SCHEMA_VERSION),
                                "description": "The payload's schema_version, as text."},
        HEADER_EVENT_TYPE: {"type": "string", "const": EVENT_TYPE,
                            "description": "The payload's type."},
    }
    return {
        "name": "ImageLabeled",
        "contentType": CONTENT_TYPE,
        "summary": ImageLabeled.__doc__,
        "headers": {"type": "object", "properties": headers, "required": sorted(headers)},
        "bindings": {"kafka": {
            "key": {"type": "string", "minLength": 1, "maxLength": OBJECT_KEY_MAX_BYTES,
                    "description": "The S3 object key (the payload's object_key), UTF-8: one "
                    "image's events share a partition, in order."},
            "bindingVersion": KAFKA_BINDING_VERSION}},
        "payload": {"$ref": "#/components/schemas/ImageLabeled"},
    }


def _dead_letter() -> dict[str, Any]:
    # The original record as it came, whatever it was, plus where it was and why it failed.
    headers = {
        HEADER_DLQ_REASON: {"type": "string", "description": "Why the message could not be "
                            "used, one line (invalid against the contract, wrongly keyed, or "
                            "refused by the graph: `the graph rejected the event: ...`)."},
        HEADER_DLQ_TOPIC: {"type": "string", "description": "The topic it was read from."},
        HEADER_DLQ_PARTITION: {"type": "string", "pattern": "^[0-9]+$",
                               "description": "Its partition there, in decimal."},
        HEADER_DLQ_OFFSET: {"type": "string", "pattern": "^[0-9]+$",
                            "description": "Its offset there, in decimal."},
    }
    return {
        "name": "DeadLetter",
        "summary": "A message of image-labels that a consumer could not use: its original "
                   "key, value and headers, unchanged, plus the dlq-* headers.",
        "contentType": "application/octet-stream",
        "headers": {"type": "object", "properties": headers, "required": sorted(headers),
                    "additionalProperties": {"type": "string", "description": "The original "
                                             "message's headers, as they came."}},
        "bindings": {"kafka": {
            "key": {"type": ["string", "null"], "description": "The original key, or none."},
            "bindingVersion": KAFKA_BINDING_VERSION}},
        "payload": {"description": "The original value, byte for byte: maybe not JSON, maybe "
                    "absent (a tombstone)."},
    }


def rendered() -> dict[str, str]:
    """File name -> committed text, exactly as export writes it."""
    documents = {SCHEMA_FILE: json_schema(), ASYNCAPI_FILE: asyncapi_document()}
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n"
            for name, doc in documents.items()}


def packaged(name: str = SCHEMA_FILE) -> dict[str, Any]:
    """A schema file as shipped inside the package (the wheel's package data), parsed."""
    text = resources.files("labelgraph_contract").joinpath("schemas", name).read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def export(directory: Path) -> list[Path]:
    """Write the schema files into directory; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
