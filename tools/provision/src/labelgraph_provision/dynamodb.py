"""The two tables: label rows (one per image and label, queried by day through a GSI) and
reviewers' verdicts (one per image and label judged: the verdicts' system of record)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, Status

CAPTURE_DATE_INDEX = "capture_date-event_ts-index"

# Both tables are keyed the same way: one item per (image, label).
_KEY_SCHEMA = [
    {"AttributeName": "object_key", "KeyType": "HASH"},
    {"AttributeName": "label", "KeyType": "RANGE"},
]
_KEY_ATTRIBUTES = [
    {"AttributeName": "object_key", "AttributeType": "S"},
    {"AttributeName": "label", "AttributeType": "S"},
]
_INDEX_KEY_SCHEMA = [
    {"AttributeName": "capture_date", "KeyType": "HASH"},
    {"AttributeName": "event_ts", "KeyType": "RANGE"},
]


def ensure_label_table(dynamodb: Any, name: str) -> Outcome:
    """The label rows' table with its by-day index (LABEL_TABLE)."""
    return _ensure_table(dynamodb, name, "LABEL_TABLE", _check_label_index, dict(
        AttributeDefinitions=[
            *_KEY_ATTRIBUTES,
            {"AttributeName": "capture_date", "AttributeType": "S"},
            {"AttributeName": "event_ts", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": CAPTURE_DATE_INDEX,
            "KeySchema": _INDEX_KEY_SCHEMA,
            "Projection": {"ProjectionType": "ALL"},
        }],
    ))


def ensure_verdict_table(dynamodb: Any, name: str) -> Outcome:
    """The verdicts' table (VERDICT_TABLE): written by the api, projected into the graph."""
    return _ensure_table(dynamodb, name, "VERDICT_TABLE", lambda table: None,
                         dict(AttributeDefinitions=_KEY_ATTRIBUTES))


def _ensure_table(dynamodb: Any, name: str, setting: str,
                  check: Callable[[dict[str, Any]], None], layout: dict[str, Any]) -> Outcome:
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        # ResourceInUse: another provisioner created it meanwhile; the waiter covers both.
        with suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  KeySchema=_KEY_SCHEMA, **layout)
        status = Status.CREATED
    else:
        # Keys cannot change after creation: refuse a same-named table with other keys.
        if table["KeySchema"] != _KEY_SCHEMA:
            raise ProvisionError(
                f"table {name} exists with key schema {table['KeySchema']}, expected "
                f"{_KEY_SCHEMA}: delete it or set {setting} to another name"
            )
        check(table)
        status = Status.EXISTED
    # Writes to a CREATING table fail on AWS; moto is ACTIVE at once.
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
    )
    return Outcome("table", name, status)


def _check_label_index(table: dict[str, Any]) -> None:
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    index = indexes.get(CAPTURE_DATE_INDEX)
    if index is None or index["KeySchema"] != _INDEX_KEY_SCHEMA:
        raise ProvisionError(
            f"table {table['TableName']} exists without index {CAPTURE_DATE_INDEX} on "
            "(capture_date, event_ts): delete it or set LABEL_TABLE to another name"
        )
