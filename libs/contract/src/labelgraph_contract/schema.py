"""The JSON Schema and AsyncAPI document of the image-labels topic, generated from the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelgraph_contract.events import SCHEMA_VERSION, ImageLabeled
from labelgraph_contract.wire import (
    CONTENT_TYPE,
    HEADER_EVENT_TYPE,
    HEADER_SCHEMA_VERSION,
    LABEL_TOPIC,
)

SCHEMA_FILE = f"image-labels.v{SCHEMA_VERSION}.json"
ASYNCAPI_FILE = "image-labels.asyncapi.json"


def json_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one message value."""
    schema = ImageLabeled.model_json_schema(mode="serialization", ref_template=ref_template)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://labelgraph.dev/schemas/{SCHEMA_FILE}",
        **schema,
    }


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 description of the topic: who sends what, keyed how, with which headers."""
    # AsyncAPI keeps the model's sub-schemas beside it under components/schemas.
    schema = json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "labelgraph image-labels",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "One message per labelling of one security-camera image.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            "imageLabels": {
                "address": LABEL_TOPIC,
                "messages": {"ImageLabeled": {"$ref": "#/components/messages/ImageLabeled"}},
            }
        },
        "operations": {
            "publishImageLabeled": {
                "action": "send",
                "channel": {"$ref": "#/channels/imageLabels"},
                "summary": "The labeler publishes each labelling.",
            },
            "consumeImageLabeled": {
                "action": "receive",
                "channel": {"$ref": "#/channels/imageLabels"},
                "summary": "The graph-writer (and any other tool) consumes them.",
            },
        },
        "components": {
            "messages": {
                "ImageLabeled": {
                    "name": "ImageLabeled",
                    "contentType": CONTENT_TYPE,
                    "summary": ImageLabeled.__doc__,
                    "headers": {
                        "type": "object",
                        "properties": {
                            HEADER_SCHEMA_VERSION: {"type": "string", "const": str(SCHEMA_VERSION)},
                            HEADER_EVENT_TYPE: {"type": "string", "const": "ImageLabeled"},
                        },
                    },
                    "bindings": {
                        "kafka": {"key": {"type": "string", "description": "The S3 object key."}}
                    },
                    "payload": {"$ref": "#/components/schemas/ImageLabeled"},
                }
            },
            "schemas": {"ImageLabeled": schema, **definitions},
        },
    }


def rendered() -> dict[str, str]:
    """File name -> committed text, exactly as export writes it."""
    documents = {SCHEMA_FILE: json_schema(), ASYNCAPI_FILE: asyncapi_document()}
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n"
            for name, doc in documents.items()}


def export(directory: Path) -> list[Path]:
    """Write the schema files into directory; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
