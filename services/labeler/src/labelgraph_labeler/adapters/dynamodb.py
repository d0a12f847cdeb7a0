"""DynamoDB: the raw label rows, the source of truth the topic can be rebuilt from."""

from __future__ import annotations

from datetime import date
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from labelgraph_labeler.domain import ImageRejected
from labelgraph_labeler.rows import Row

CAPTURE_DATE_INDEX = "capture_date-event_ts-index"
# DynamoDB's key limits, checked before anything is written: a row over them fails its
# batch, while earlier batches (and on moto earlier rows of the same batch) are stored.
KEY_LIMITS = {"object_key": 2048, "label": 1024}


class LabelTable:
    """One row per (object_key, label); writing an image's rows replaces its previous ones."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def replace_rows(self, object_key: str, rows: list[dict[str, Any]]) -> None:
        """Write rows and delete the image's rows they do not rewrite (a smaller relabelling)."""
        _refuse_oversized_keys(rows)
        stale = self._labels_of(object_key) - {row["label"] for row in rows}
        try:
            # batch_writer sends BatchWriteItem of at most 25 items (AWS's limit, which moto
            # does not enforce) and resends unprocessed items; puts overwrite by key.
            with self._table.batch_writer(overwrite_by_pkeys=["object_key", "label"]) as batch:
                for row in rows:
                    batch.put_item(Item=row)
                for label in stale:
                    batch.delete_item(Key={"object_key": object_key, "label": label})
        except ClientError as error:
            # A row over DynamoDB's other limits (an item over 400 KB, say) fails the same
            # way every time; throttling and 5xx may pass on another try.
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise ImageRejected(f"the label table refused the rows: {error}",
                                    "table_rejected") from None
            raise

    def rows_of(self, object_key: str) -> list[Row]:
        return self._query(KeyConditionExpression=Key("object_key").eq(object_key),
                           ConsistentRead=True)

    def rows_of_day(self, day: date, after_ts: int | None) -> list[Row]:
        """The day's rows in event_ts order, through the capture-date index."""
        condition = Key("capture_date").eq(day.isoformat())
        if after_ts is not None:
            condition = condition & Key("event_ts").gt(after_ts)
        return self._query(IndexName=CAPTURE_DATE_INDEX, KeyConditionExpression=condition)

    def earliest_capture_date(self) -> date | None:
        """The first day in the table: one projected scan, for a load with no checkpoint."""
        earliest: str | None = None
        arguments: dict[str, Any] = {"ProjectionExpression": "capture_date"}
        while True:
            page = self._table.scan(**arguments)
            days = [item["capture_date"] for item in page.get("Items", [])]
            earliest = min([*days, *([earliest] if earliest else [])], default=None)
            if "LastEvaluatedKey" not in page:
                return date.fromisoformat(earliest) if earliest else None
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _labels_of(self, object_key: str) -> set[str]:
        rows = self._query(KeyConditionExpression=Key("object_key").eq(object_key),
                           ProjectionExpression="#l", ExpressionAttributeNames={"#l": "label"},
                           ConsistentRead=True)
        return {row["label"] for row in rows}

    def _query(self, **arguments: Any) -> list[Row]:
        rows: list[Row] = []
        while True:
            page = self._table.query(**arguments)
            rows.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return rows
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _refuse_oversized_keys(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for name, limit in KEY_LIMITS.items():
            size = len(row[name].encode())
            if size > limit:
                raise ImageRejected(f"{name} of {size} bytes: the label table holds {limit}",
                                    "table_rejected")
