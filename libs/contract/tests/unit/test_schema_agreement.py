"""The model accepts exactly what the committed JSON Schema accepts, on cases that
hypothesis-jsonschema generates from that schema, and on the same cases spoiled.

The schema cannot say three rules, which its descriptions state and `cross_field_rules` below
restates independently of the model: event_ts and capture_date agree with captured_at, and an
object key is at most 1,024 bytes of UTF-8.
"""

import copy
import json
import re
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from labelgraph_contract import InvalidEvent, decode_event

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[4] / "schemas" / "image-labels.v1.json").read_text())


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # JSON Schema patterns are ECMA-262 regexes, whose `$` ends the text; Python's `$` (which
    # jsonschema uses) also matches before a final newline, and would let "Person\n" through.
    assert pattern.endswith("$") and "$" not in pattern[:-1]
    if validator.is_type(instance, "string") and not re.search(pattern[:-1] + r"\Z", instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
VALIDATOR = _Validator(SCHEMA, format_checker=FormatChecker())


def cross_field_rules(document: dict[str, Any]) -> bool:
    captured = datetime.fromisoformat(document["captured_at"])
    return (len(document["object_key"].encode()) <= 1024
            and document["event_ts"] == int(captured.timestamp())
            and document["capture_date"] == captured.date().isoformat())


def accepted_by_schema(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def decodes(document: Any) -> bool:
    try:
        decode_event(json.dumps(document).encode())
    except InvalidEvent:
        return False
    return True


def agreeing(document: Any) -> dict[str, Any]:
    """The document with event_ts and capture_date derived from its captured_at."""
    captured = datetime.fromisoformat(document["captured_at"])
    return {**document, "event_ts": int(captured.timestamp()),
            "capture_date": captured.date().isoformat()}


# The stock date-time and date generators draw years 0-9999, of which the schema's pattern
# keeps 2000-2100: about 1 in 100, too few to filter. These draw around that range instead,
# so a good share still falls outside it and is filtered by the schema's own pattern.
_OFFSETS = st.integers(-15 * 60, 15 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_DATETIMES = st.builds(
    lambda moment, timespec: moment.isoformat(timespec=timespec).replace("+00:00", "Z"),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2110, 12, 31),
                 timezones=_OFFSETS),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]))
_DATES = st.dates(min_value=datetime(1990, 1, 1).date(),
                  max_value=datetime(2110, 12, 31).date()).map(lambda day: day.isoformat())

def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    # Generation only: hypothesis-jsonschema fills every open object with random unknown
    # fields, which makes each case five times slower. The cases stay instances of the
    # committed schema (the test checks), and spoiling below adds unknown fields instead.
    closed = copy.deepcopy(schema)
    for definition in [closed, *closed["$defs"].values()]:
        definition["additionalProperties"] = False
    return closed


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "Overriding standard format": that is the point
    SCHEMA_INSTANCES = from_schema(_closed(SCHEMA), custom_formats={"date-time": _DATETIMES,
                                                                    "date": _DATES})

VALID = SCHEMA_INSTANCES.map(agreeing).filter(
    lambda document: len(document["object_key"].encode()) <= 1024)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    found = [path] if path else []
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


def _spoilers(value: Any) -> st.SearchStrategy[Any]:
    """Values to put in place of `value`: other JSON types, its text, and near misses."""
    near: list[Any] = [None, True, False, [], {}, "", str(value)]
    if isinstance(value, bool):
        near += [int(value)]
    elif isinstance(value, int | float):
        near += [float(value), value + 0.5, -value - 1, 10**12, int(value)]
    elif isinstance(value, str):
        near += [value + "\n", value + "\x1b[0m", value + "\x85", value * 300,
                 value.upper(), value.replace("-", ""), value.replace("T", " "),
                 value.replace(":", "", 1), "é" * 600, value[:-1]]
    elif isinstance(value, list):
        near += [value * 40, value[:1] * 1001]
    return st.one_of(st.sampled_from(near), st.integers(), st.floats(allow_nan=False,
                     allow_infinity=False), st.text(max_size=20))


def spoil(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """A copy of the document with one value replaced, one field dropped or one added."""
    spoiled = copy.deepcopy(document)
    path = data.draw(st.sampled_from(_paths(spoiled)), label="path")
    parent = spoiled
    for key in path[:-1]:
        parent = parent[key]
    value = parent[path[-1]]
    action = data.draw(st.sampled_from(["replace", "drop", "add"]), label="action")
    if action == "add" and isinstance(value, dict):
        value[data.draw(st.text(max_size=10), label="new field")] = data.draw(
            st.sampled_from([None, 1, "x", [1], {"a": {}}]), label="its value")
    elif action == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(_spoilers(value), label="spoiler")
    return spoiled


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(VALID, st.data())
def test_the_model_accepts_exactly_what_the_schema_and_its_stated_rules_accept(document, data):
    assert accepted_by_schema(document)  # deriving the capture fields kept it in the schema
    event = decode_event(json.dumps(document).encode())
    assert event.object_key == document["object_key"]
    names = [label["name"] for label in document["labels"]]
    assert [label.name for label in event.labels] == list(dict.fromkeys(names))
    for label in event.labels:
        assert label.confidence == max(item["confidence"] for item in document["labels"]
                                       if item["name"] == label.name)

    for _ in range(5):
        spoiled = spoil(document, data)
        schema_says = accepted_by_schema(spoiled) and cross_field_rules(spoiled)
        assert decodes(spoiled) == schema_says, spoiled


def test_the_issues_three_cases_are_rejected_by_schema_and_model():
    document = agreeing(json.loads(decode_event(json.dumps(EXAMPLE).encode()).model_dump_json()))
    assert accepted_by_schema(document) and decodes(document)
    for where, value in [("confidence", "99.5"), ("confidence", True),
                         ("event_ts", str(document["event_ts"]))]:
        spoiled = copy.deepcopy(document)
        (spoiled["labels"][0] if where == "confidence" else spoiled)[where] = value
        assert not accepted_by_schema(spoiled)
        assert not decodes(spoiled)


EXAMPLE = {
    "event_id": "0b5f1c2e-3f7a-5d1e-9a8b-1c2d3e4f5a6b", "bucket": "security-alarms",
    "object_key": "alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg",
    "image_etag": "9b2cf535f27731c974343645a3985328", "camera": "frontdoor",
    "captured_at": "2016-11-05T07:15:30-07:00", "event_ts": 1478355330,
    "capture_date": "2016-11-05", "detector": "aws-rekognition", "model_version": "3.0",
    "labeled_at": "2026-11-25T02:15:00+00:00",
    "labels": [{"name": "Person", "confidence": 99.1, "parents": ["Human"]}],
}
