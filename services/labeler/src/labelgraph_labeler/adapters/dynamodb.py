"""DynamoDB: the raw label rows, the source of truth the topic can be rebuilt from."""

from __future__ import annotations

from typing import Any

# DynamoDB's BatchWriteItem limit; moto accepts more, AWS rejects it, so we enforce it here.
MAX_BATCH_ITEMS = 25


class LabelTable:
    """Writes label rows; rewriting the same (object_key, label) replaces the row."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def put_rows(self, rows: list[dict[str, object]]) -> None:
        # batch_writer splits into batches of 25 and resends unprocessed items.
        with self._table.batch_writer(overwrite_by_pkeys=["object_key", "label"]) as batch:
            for row in rows:
                batch.put_item(Item=row)
