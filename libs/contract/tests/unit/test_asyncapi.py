"""The committed AsyncAPI document against the official AsyncAPI 3 schema and the producer."""

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from labelgraph_contract import LABEL_DLQ_TOPIC, LABEL_TOPIC, encode_event

from .conftest import make_event

ROOT = Path(__file__).resolve().parents[4]
DOCUMENT = json.loads((ROOT / "schemas" / "image-labels.asyncapi.json").read_text())
OFFICIAL = Path(__file__).parent / "vendor" / "asyncapi-3.0.0.schema.json"
OFFICIAL_SHA256 = "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"


@pytest.fixture(scope="module")
def asyncapi_validator() -> Draft7Validator:
    """The official schema, its bundled definitions found by their $id, no network."""
    assert hashlib.sha256(OFFICIAL.read_bytes()).hexdigest() == OFFICIAL_SHA256
    schema = json.loads(OFFICIAL.read_text())
    registry = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)).crawl()
    return Draft7Validator(schema, registry=registry)


def message(name: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["components"]["messages"][name]
    return found


def test_the_document_is_valid_asyncapi_3_and_describes_both_topics(asyncapi_validator):
    errors = [error.message[:200] for error in asyncapi_validator.iter_errors(DOCUMENT)]
    assert errors == []
    assert {name: channel["address"] for name, channel in DOCUMENT["channels"].items()} == {
        "imageLabels": LABEL_TOPIC, "imageLabelsDeadLetters": LABEL_DLQ_TOPIC}
    assert {(op["action"], op["channel"]["$ref"]) for op in DOCUMENT["operations"].values()} == {
        ("send", "#/channels/imageLabels"), ("receive", "#/channels/imageLabels"),
        ("send", "#/channels/imageLabelsDeadLetters")}


def test_the_official_schema_refuses_a_spoiled_document(asyncapi_validator):
    # So the test above cannot pass by validating nothing.
    spoiled = copy.deepcopy(DOCUMENT)
    spoiled["channels"]["imageLabels"]["bindings"]["kafka"]["partitions"] = "six"
    assert not asyncapi_validator.is_valid(spoiled)


def test_the_headers_described_are_exactly_those_the_producer_sets():
    record = encode_event(make_event())
    headers = {name: value.decode() for name, value in record.headers}
    described = message("ImageLabeled")["headers"]
    assert set(described["required"]) == set(described["properties"]) == set(headers)
    assert headers["content-type"] == message("ImageLabeled")["contentType"]
    Draft202012Validator(described).validate(headers)


def test_the_key_described_is_the_object_key_the_producer_sends():
    record = encode_event(make_event())
    key_schema = message("ImageLabeled")["bindings"]["kafka"]["key"]
    Draft202012Validator(key_schema).validate(record.key.decode())
    assert record.key.decode() == json.loads(record.value)["object_key"]
    assert key_schema["maxLength"] == 1024


def test_a_dead_letter_needs_the_reason_and_the_place_it_came_from():
    headers_schema = message("DeadLetter")["headers"]
    assert set(headers_schema["required"]) == {
        "dlq-reason", "dlq-topic", "dlq-partition", "dlq-offset"}
    validator = Draft202012Validator(headers_schema)
    place = {"dlq-topic": LABEL_TOPIC, "dlq-partition": "0", "dlq-offset": "17"}
    assert validator.is_valid({**place, "dlq-reason": "not JSON", "content-type": "x"})
    assert not validator.is_valid(place)
    assert not validator.is_valid({**place, "dlq-reason": "r", "dlq-offset": "-1"})
