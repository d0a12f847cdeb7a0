import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labelgraph_contract.schema import packaged, rendered

SCHEMAS = Path(__file__).resolve().parents[4] / "schemas"


def test_committed_schema_files_match_the_model():
    # Fails when the model changes without `make schemas` (or a hand edit of the files).
    for name, text in rendered().items():
        committed = (SCHEMAS / name).read_text()
        assert committed == text, f"schemas/{name} drifted from the model: run `make schemas`"


def test_the_package_ships_the_same_schema_files():
    # The wheel's copy (package data), read as a consumer of the wheel reads it.
    for name, text in rendered().items():
        assert packaged(name) == json.loads(text), f"run `make schemas` ({name})"


def references(node: Any) -> Iterator[str]:
    """Every $ref anywhere in a JSON document."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def resolve(document: Any, reference: str) -> Any:
    """The node a local reference (#/a/b) points at; KeyError when there is none."""
    assert reference.startswith("#/"), f"{reference}: not a reference inside the document"
    node = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_names_the_topic_and_resolves_its_references():
    document = json.loads((SCHEMAS / "image-labels.asyncapi.json").read_text())
    assert document["channels"]["imageLabels"]["address"] == "image-labels"
    found = set(references(document))
    # Each of the event's models is referred to, and every reference lands on a node.
    for name in ("ImageLabeled", "DetectedLabel", "LabelInstance", "BoundingBox"):
        assert f"#/components/schemas/{name}" in found
    for reference in found:
        assert isinstance(resolve(document, reference), dict), reference
