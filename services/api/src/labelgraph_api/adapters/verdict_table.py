"""DynamoDB: the reviewers' verdicts' system of record, one item per image and label.

The graph holds a projection of this table (Review nodes); a graph rebuilt or lost gets
every verdict back from here (verdicts.restore_verdicts).
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from labelgraph_api.domain import StoredVerdict

# Newest wins: two reviewers racing leave the later verdict, in the table and the graph.
_NOT_OLDER = "attribute_not_exists(reviewed_at) OR reviewed_at <= :reviewed_at"
_NEWER = "attribute_not_exists(reviewed_at) OR reviewed_at < :reviewed_at"


class VerdictStoreUnavailable(Exception):
    """The verdict table could not be reached or refused the request."""


class VerdictTable:
    """Stores and lists verdicts with the low-level client (calls run off the event loop)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    async def record(self, verdict: StoredVerdict) -> StoredVerdict:
        """Store the verdict unless a later one is stored; returns what the table holds."""
        return await asyncio.to_thread(self._guarded, self._put, verdict)

    async def all(self) -> list[StoredVerdict]:
        """Every stored verdict."""
        return await asyncio.to_thread(self._guarded, self._scan)

    async def put_if_newer(self, verdicts: list[StoredVerdict]) -> int:
        """Store each verdict the table has no later one for; returns how many it took."""
        def put_all() -> int:
            return sum(self._put(verdict, _NEWER) is verdict for verdict in verdicts)
        return await asyncio.to_thread(self._guarded, put_all)

    def _guarded(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except (BotoCoreError, ClientError) as error:
            raise VerdictStoreUnavailable(f"verdict table {self._table}: {error}") from error

    def _put(self, verdict: StoredVerdict, condition: str = _NOT_OLDER) -> StoredVerdict:
        try:
            self._client.put_item(
                TableName=self._table, Item=_item(verdict), ConditionExpression=condition,
                ExpressionAttributeValues={":reviewed_at": {"S": verdict.reviewed_at}})
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self._client.get_item(
                TableName=self._table, ConsistentRead=True,
                Key={"object_key": {"S": verdict.object_key}, "label": {"S": verdict.label}})
            return _verdict(stored["Item"])
        return verdict

    def _scan(self) -> list[StoredVerdict]:
        pages = self._client.get_paginator("scan").paginate(TableName=self._table,
                                                             ConsistentRead=True)
        return [_verdict(item) for page in pages for item in page["Items"]]


def _item(verdict: StoredVerdict) -> dict[str, Any]:
    return {"object_key": {"S": verdict.object_key}, "label": {"S": verdict.label},
            "present": {"BOOL": verdict.present}, "reviewer": {"S": verdict.reviewer},
            "reviewed_at": {"S": verdict.reviewed_at}, "sampled": {"BOOL": verdict.sampled}}


def _verdict(item: dict[str, Any]) -> StoredVerdict:
    return StoredVerdict(object_key=item["object_key"]["S"], label=item["label"]["S"],
                         present=item["present"]["BOOL"], reviewer=item["reviewer"]["S"],
                         reviewed_at=item["reviewed_at"]["S"],
                         # Items from before the random-sample review have no such field.
                         sampled=item.get("sampled", {}).get("BOOL", False))
