"""The label table: one row per (image, label), queried by day through a GSI."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.report import Outcome, Status

CAPTURE_DATE_INDEX = "capture_date-event_ts-index"

_KEY_SCHEMA = [
    {"AttributeName": "object_key", "KeyType": "HASH"},
    {"AttributeName": "label", "KeyType": "RANGE"},
]
_INDEX_KEY_SCHEMA = [
    {"AttributeName": "capture_date", "KeyType": "HASH"},
    {"AttributeName": "event_ts", "KeyType": "RANGE"},
]


def ensure_label_table(dynamodb: Any, name: str) -> Outcome:
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        _create(dynamodb, name)
        status = Status.CREATED
    else:
        _check_schema(table)
        status = Status.EXISTED
    # Writes to a CREATING table fail on AWS; moto is ACTIVE at once.
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
    )
    return Outcome("table", name, status)


def _create(dynamodb: Any, name: str) -> None:
    # ResourceInUse: another provisioner created it meanwhile; the waiter covers both.
    with suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "object_key", "AttributeType": "S"},
                {"AttributeName": "label", "AttributeType": "S"},
                {"AttributeName": "capture_date", "AttributeType": "S"},
                {"AttributeName": "event_ts", "AttributeType": "N"},
            ],
            KeySchema=_KEY_SCHEMA,
            GlobalSecondaryIndexes=[
                {
                    "IndexName": CAPTURE_DATE_INDEX,
                    "KeySchema": _INDEX_KEY_SCHEMA,
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )


def _check_schema(table: dict[str, Any]) -> None:
    """Refuse a same-named table with other keys: keys cannot change after creation."""
    name = table["TableName"]
    if table["KeySchema"] != _KEY_SCHEMA:
        raise ProvisionError(
            f"table {name} exists with key schema {table['KeySchema']}, expected "
            f"{_KEY_SCHEMA}: delete it or set LABEL_TABLE to another name"
        )
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    index = indexes.get(CAPTURE_DATE_INDEX)
    if index is None or index["KeySchema"] != _INDEX_KEY_SCHEMA:
        raise ProvisionError(
            f"table {name} exists without index {CAPTURE_DATE_INDEX} on "
            "(capture_date, event_ts): delete it or set LABEL_TABLE to another name"
        )
