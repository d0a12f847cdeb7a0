"""Reads whose statement returns every row as one collected list, against a fake session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from labelgraph_api import queries
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.windows import EARLIEST, LATEST, Window

SPAN = Window(EARLIEST, LATEST, ("2026-12-01",))


class FakeSession:
    """Answers one statement with the rows it is given, as one collected row or none."""

    def __init__(self, query: str, answer: list[dict[str, Any]]) -> None:
        self.query, self.answer = query, answer

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        assert query == self.query
        return self.answer


def export_row(key: str) -> dict[str, Any]:
    return {"object_key": key, "bucket": None, "camera": "front", "present": True,
            "reviewer": "ana", "reviewed_at": "2026-12-01T10:00:00+00:00",
            "labels": [{"detector": None, "confidence": None, "boxes": None}]}


def test_the_export_is_in_object_key_order_whatever_order_the_graph_collects() -> None:
    # The training set numbers its files by position: the order is part of the answer.
    keys = ["b/2.jpg", "a/9.jpg", "b/10.jpg", "a/1.jpg"]
    session = FakeSession(queries.REVIEWED_FOR_EXPORT,
                          [{"collected": [export_row(key) for key in keys]}])
    rows = asyncio.run(CypherReads(session).reviewed_for_export(  # type: ignore[arg-type]
        SPAN, label="Person", cameras=None, detector=None))
    assert [row["object_key"] for row in rows] == sorted(keys)
    assert all(row["labels"] == [] for row in rows)  # the OPTIONAL MATCH's null edge dropped


@pytest.mark.parametrize("answer", [[], [{"collected": []}], [{"collected": None}]])
def test_no_verdict_in_scope_is_no_row(answer: list[dict[str, Any]]) -> None:
    # Neo4j answers an aggregate over nothing with one empty list; a null or no row at all
    # means the same.
    reads = CypherReads(FakeSession(queries.REVIEWED, answer))  # type: ignore[arg-type]
    assert asyncio.run(reads.reviewed(SPAN, label="Person", cameras=None, detector=None)) == []


def test_sample_keys_are_the_collected_keys() -> None:
    session = FakeSession(queries.SAMPLE_KEYS_ON_DATES, [{"collected": ["a.jpg", "b.jpg"]}])
    reads = CypherReads(session)  # type: ignore[arg-type]
    keys = asyncio.run(reads.sample_keys(SPAN, 10, label="Person", cameras=None))
    assert keys == ["a.jpg", "b.jpg"]
