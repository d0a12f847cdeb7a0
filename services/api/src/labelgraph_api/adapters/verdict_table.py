"""DynamoDB: the reviewers' verdicts' system of record, one item per image and label.

The item holds the verdict in force (what the graph projects and every reader reads) and
the history of every verdict given on that image and label, undone ones included. The
graph holds a projection of the verdicts in force (Review nodes); a graph rebuilt or lost
gets every verdict back from here (verdicts.restore_verdicts), its history never left here,
and an undo the graph missed is made there again.

An item is read, changed and written back under its version number: two reviewers racing
on one image both land in the history, the newest verdict in force.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from labelgraph_api.domain import StoredVerdict
from labelgraph_api.verdict_history import VerdictEntry, VerdictHistory

Change = Callable[[VerdictHistory | None], VerdictHistory | None]


class VerdictStoreUnavailable(Exception):
    """The verdict table could not be reached or refused the request."""


class _Raced(Exception):
    """Another writer changed the item between our read and our write."""


class VerdictTable:
    """Stores and lists verdicts with the low-level client (calls run off the event loop)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    async def record(self, verdict: StoredVerdict) -> StoredVerdict:
        """Add the verdict to its history; returns the verdict in force (newest wins)."""
        def add(held: VerdictHistory | None) -> VerdictHistory:
            return (held or VerdictHistory(verdict.object_key, verdict.label)
                    ).with_verdict(verdict)
        history, _ = await self._change(verdict.object_key, verdict.label, add)
        assert history is not None and history.current is not None  # it holds this verdict
        return history.current

    async def undo(self, object_key: str, label: str, reviewed_at: str, undone_by: str,
                   undone_at: str) -> VerdictHistory | None:
        """Undo the verdict in force given at `reviewed_at`; the changed history (it keeps
        the undone verdict), None when the image and label have none. VerdictNotFound and
        NotTheLatest come from the history."""
        def undo(held: VerdictHistory | None) -> VerdictHistory | None:
            return None if held is None else held.undo(reviewed_at, undone_by, undone_at)
        history, _ = await self._change(object_key, label, undo)
        return history

    async def history(self, object_key: str) -> list[VerdictHistory]:
        """The history of every label judged on the image."""
        def query() -> list[VerdictHistory]:
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table, ConsistentRead=True,
                KeyConditionExpression="object_key = :key",
                ExpressionAttributeValues={":key": {"S": object_key}})
            return [_history(item) for page in pages for item in page["Items"]]
        return await asyncio.to_thread(self._guarded, query)

    async def pages(self, size: int) -> AsyncIterator[list[VerdictHistory]]:
        """Every image and label's history, up to `size` items a page, undone ones included."""
        pages = iter(self._client.get_paginator("scan").paginate(
            TableName=self._table, ConsistentRead=True, PaginationConfig={"PageSize": size}))
        while (page := await asyncio.to_thread(self._guarded, next, pages, None)) is not None:
            yield [_history(item) for item in page["Items"]]

    async def put_if_newer(self, verdicts: list[StoredVerdict]) -> int:
        """Add each verdict the table never held and has no later one for; returns how many
        it took (one it holds as undone stays undone)."""
        taken = 0
        for verdict in verdicts:
            def adopt(held: VerdictHistory | None, verdict: StoredVerdict = verdict
                      ) -> VerdictHistory | None:
                if held is not None and held.holds(verdict):
                    return None  # known, in force or undone: the table's word stands
                current = None if held is None else held.current
                if current is not None and current.reviewed_at >= verdict.reviewed_at:
                    return None  # the table's is as new or newer: nothing to write
                return (held or VerdictHistory(verdict.object_key, verdict.label)
                        ).with_verdict(verdict)
            _, written = await self._change(verdict.object_key, verdict.label, adopt)
            taken += written
        return taken

    async def _change(self, object_key: str, label: str, change: Change
                      ) -> tuple[VerdictHistory | None, bool]:
        """The history after the change, and whether it was written (a change to nothing,
        or to what is held, writes nothing)."""
        return await asyncio.to_thread(self._guarded, self._change_item, object_key, label,
                                       change)

    def _guarded(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except (BotoCoreError, ClientError, _Raced) as error:
            raise VerdictStoreUnavailable(f"verdict table {self._table}: {error}") from error

    # Only a lost race is retried: a refused or unreachable table raises at once (the
    # client already retried what the network lost).
    @retry(retry=retry_if_exception_type(_Raced), stop=stop_after_attempt(8),
           wait=wait_exponential_jitter(multiplier=0.01, max=0.5), reraise=True)
    def _change_item(self, object_key: str, label: str, change: Change
                     ) -> tuple[VerdictHistory | None, bool]:
        key = {"object_key": {"S": object_key}, "label": {"S": label}}
        item = self._client.get_item(TableName=self._table, Key=key,
                                     ConsistentRead=True).get("Item")
        held = None if item is None else _history(item)
        changed = change(held)
        if changed is None or changed == held:
            return held, False
        condition, values = _unchanged_since(item)
        try:
            self._client.put_item(TableName=self._table, ConditionExpression=condition,
                                  Item=_item(changed, _version(item) + 1),
                                  **({"ExpressionAttributeValues": values} if values else {}))
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise _Raced(f"{object_key!r} {label!r} changed meanwhile") from error
        return changed, True

def _unchanged_since(item: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The condition that the item is still as read (items from before versions have none)."""
    if item is None:
        return "attribute_not_exists(object_key)", {}
    if "version" not in item:
        return "attribute_exists(object_key) AND attribute_not_exists(version)", {}
    return "version = :version", {":version": item["version"]}


def _version(item: dict[str, Any] | None) -> int:
    return 0 if item is None or "version" not in item else int(item["version"]["N"])


def _item(history: VerdictHistory, version: int) -> dict[str, Any]:
    item = {"object_key": {"S": history.object_key}, "label": {"S": history.label},
            "version": {"N": str(version)},
            "history": {"L": [{"M": _entry_item(entry)} for entry in history.entries]}}
    current = history.current
    if current is not None:  # the verdict in force, where every reader looks
        item |= {"present": {"BOOL": current.present}, "reviewer": {"S": current.reviewer},
                 "reviewed_at": {"S": current.reviewed_at},
                 "sampled": {"BOOL": current.sampled}}
    return item


def _entry_item(entry: VerdictEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"present": {"BOOL": entry.present},
                            "reviewer": {"S": entry.reviewer},
                            "reviewed_at": {"S": entry.reviewed_at},
                            "sampled": {"BOOL": entry.sampled}}
    if entry.undone_at is not None and entry.undone_by is not None:
        item |= {"undone_at": {"S": entry.undone_at}, "undone_by": {"S": entry.undone_by}}
    return item


def _verdict(item: dict[str, Any]) -> StoredVerdict:
    return StoredVerdict(object_key=item["object_key"]["S"], label=item["label"]["S"],
                         present=item["present"]["BOOL"], reviewer=item["reviewer"]["S"],
                         reviewed_at=item["reviewed_at"]["S"],
                         # Items from before the random-sample review have no such field.
                         sampled=item.get("sampled", {}).get("BOOL", False))


def _history(item: dict[str, Any]) -> VerdictHistory:
    if "history" not in item:  # stored before histories were kept
        return VerdictHistory.of(_verdict(item))
    entries = tuple(VerdictEntry(
        present=entry["M"]["present"]["BOOL"], reviewer=entry["M"]["reviewer"]["S"],
        reviewed_at=entry["M"]["reviewed_at"]["S"],
        sampled=entry["M"].get("sampled", {}).get("BOOL", False),
        undone_at=entry["M"].get("undone_at", {}).get("S"),
        undone_by=entry["M"].get("undone_by", {}).get("S")) for entry in item["history"]["L"])
    return VerdictHistory(item["object_key"]["S"], item["label"]["S"], entries)
