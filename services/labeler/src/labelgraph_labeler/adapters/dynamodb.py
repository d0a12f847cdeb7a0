"""DynamoDB: the raw label rows, the source of truth the topic can be rebuilt from.

Through the low-level client, not boto3's resource layer: the rows' few attribute types
are converted here directly, which costs a fraction of the resource layer's generic
TypeSerializer on the hot path (ten rows an image).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from labelgraph_labeler.domain import ImageRejected, backoff_delay
from labelgraph_labeler.rows import Row

CAPTURE_DATE_INDEX = "capture_date-event_ts-index"
# DynamoDB's key limits, checked before anything is written: a row over them fails its
# batch, while earlier batches (and on moto earlier rows of the same batch) are stored.
KEY_LIMITS = {"object_key": 2048, "label": 1024}
# BatchWriteItem takes at most 25 requests (AWS's limit, which moto does not enforce).
BATCH_LIMIT = 25
# Items DynamoDB leaves unprocessed (throttled partitions) are sent again with backoff, as
# AWS advises; still unprocessed after that, the image is left for SQS redelivery.
UNPROCESSED_ATTEMPTS = 6
UNPROCESSED_BASE_SECONDS = 0.05
UNPROCESSED_MAX_SECONDS = 1.0

_DESERIALIZER = TypeDeserializer()


class UnprocessedRows(RuntimeError):
    """DynamoDB kept leaving rows unprocessed: transient, the upload is redelivered."""


class TableMissing(RuntimeError):
    """The label table does not exist: no image can be recorded until an operator makes it
    again, so the upload is redelivered (and readiness says why), not refused."""


_TABLE_MISSING = "ResourceNotFoundException"


class DynamoDBLabelTable:
    """One row per (object_key, label); writing an image's rows replaces its previous ones."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._name = table_name

    def replace_rows(self, object_key: str, rows: list[dict[str, Any]], *,
                     first_write: bool = False) -> None:
        """Write rows and delete the image's rows they do not rewrite (a smaller relabelling).

        `first_write` says the image has no rows yet (an upload on its first delivery), so
        there are none to read and delete: the write is then one round trip, not two.
        """
        _refuse_oversized_keys(rows)
        stale = set() if first_write else (self._labels_of(object_key)
                                           - {row["label"] for row in rows})
        requests = [{"PutRequest": {"Item": item(row)}} for row in rows]
        requests += [{"DeleteRequest": {"Key": {"object_key": {"S": object_key},
                                                "label": {"S": label}}}}
                     for label in sorted(stale)]
        try:
            for start in range(0, len(requests), BATCH_LIMIT):
                self._write(requests[start:start + BATCH_LIMIT])
        except ClientError as error:
            # A row over DynamoDB's other limits (an item over 400 KB, say) fails the same
            # way every time; throttling and 5xx may pass on another try.
            if _code(error) == "ValidationException":
                raise ImageRejected(f"the label table refused the rows: {error}",
                                    "table_rejected") from None
            raise

    def check(self) -> str | None:
        """None when the table exists and takes writes, else why not (for readiness)."""
        try:
            status = self._client.describe_table(TableName=self._name)["Table"]["TableStatus"]
        except ClientError as error:
            if _code(error) == _TABLE_MISSING:
                return f"the label table {self._name} does not exist"
            return f"cannot describe the label table {self._name}: {_code(error)}"
        except BotoCoreError as error:
            return f"cannot reach DynamoDB for the label table {self._name}: {error}"
        # UPDATING (a new index, say) still takes writes; CREATING and DELETING do not.
        if status not in ("ACTIVE", "UPDATING"):
            return f"the label table {self._name} is {status}"
        return None

    def rows_of_day(self, day: date, after_ts: int | None) -> list[Row]:
        """The day's rows in event_ts order, through the capture-date index."""
        condition, values = "capture_date = :day", {":day": {"S": day.isoformat()}}
        if after_ts is not None:
            condition += " AND event_ts > :after"
            values[":after"] = {"N": str(after_ts)}
        return list(self._query(IndexName=CAPTURE_DATE_INDEX, KeyConditionExpression=condition,
                                ExpressionAttributeValues=values))

    def keys_of_day(self, day: date) -> set[str]:
        """The images with rows captured that day: the day's index entries, their object
        keys alone (the read costs the same, the answer a tenth of the rows)."""
        rows = self._query(IndexName=CAPTURE_DATE_INDEX,
                           KeyConditionExpression="capture_date = :day",
                           ExpressionAttributeValues={":day": {"S": day.isoformat()}},
                           ProjectionExpression="object_key")
        return {row["object_key"] for row in rows}

    def has_rows(self, object_key: str) -> bool:
        """Whether the image has a row: one Query of one item (not paged: a second page
        would only say so again)."""
        page = self._call(self._client.query, TableName=self._name, Limit=1,
                          KeyConditionExpression="object_key = :key",
                          ExpressionAttributeValues={":key": {"S": object_key}},
                          ProjectionExpression="object_key")
        return bool(page.get("Items"))

    def earliest_capture_date(self) -> date | None:
        """The first day in the table: one projected scan, for a load with no checkpoint."""
        earliest = min((row["capture_date"] for row in self._pages(
            self._client.scan, ProjectionExpression="capture_date")), default=None)
        return date.fromisoformat(earliest) if earliest else None

    def _write(self, requests: list[dict[str, Any]]) -> None:
        for attempt in range(UNPROCESSED_ATTEMPTS):
            if attempt:
                time.sleep(backoff_delay(attempt - 1, UNPROCESSED_BASE_SECONDS,
                                         UNPROCESSED_MAX_SECONDS, random.random()))
            answer = self._call(self._client.batch_write_item,
                                RequestItems={self._name: requests})
            requests = answer.get("UnprocessedItems", {}).get(self._name, [])
            if not requests:
                return
        raise UnprocessedRows(f"{len(requests)} rows still unprocessed after "
                              f"{UNPROCESSED_ATTEMPTS} BatchWriteItem calls")

    def _labels_of(self, object_key: str) -> set[str]:
        rows = self._query(KeyConditionExpression="object_key = :key",
                           ExpressionAttributeValues={":key": {"S": object_key}},
                           ProjectionExpression="#l", ExpressionAttributeNames={"#l": "label"},
                           ConsistentRead=True)
        return {row["label"] for row in rows}

    def _query(self, **arguments: Any) -> Iterator[Row]:
        return self._pages(self._client.query, **arguments)

    def _pages(self, call: Any, **arguments: Any) -> Iterator[Row]:
        while True:
            page = self._call(call, TableName=self._name, **arguments)
            for raw in page.get("Items", []):
                yield {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


    def _call(self, call: Any, **arguments: Any) -> Any:
        try:
            return call(**arguments)
        except ClientError as error:
            if _code(error) == _TABLE_MISSING:
                raise TableMissing(f"the label table {self._name} does not exist") from None
            raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def item(row: Row) -> dict[str, Any]:
    """A row in DynamoDB's wire form, for the types rows hold (what TypeSerializer makes)."""
    return {name: _attribute(value) for name, value in row.items()}


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attribute(element) for element in value]}
    raise TypeError(f"a label row holds no {type(value).__name__}")


def _refuse_oversized_keys(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for name, limit in KEY_LIMITS.items():
            size = len(row[name].encode())
            if size > limit:
                raise ImageRejected(f"{name} of {size} bytes: the label table holds {limit}",
                                    "table_rejected")
