"""The api's start-up makes the graph's Reviews equal the verdict table, undos included.

An undo is stored in the table first, then projected: a graph unreachable at that moment
keeps showing the undone verdict. These tests make the graph miss undos (the table adapter
alone undoes), run restore_verdicts (what the api runs at start, and `restore-verdicts`),
and read the Reviews back from the real graph and the verdicts from the real table.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from neo4j import AsyncGraphDatabase, GraphDatabase

from labelgraph_api.adapters.graph import GraphSession
from labelgraph_api.adapters.verdict_graph import VerdictProjection
from labelgraph_api.adapters.verdict_table import VerdictTable
from labelgraph_api.domain import StoredVerdict, review_key
from labelgraph_api.handlers import verdicts
from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.testing import aws_client

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
T = TypeVar("T")
Use = Callable[[VerdictProjection, VerdictTable], Awaitable[T]]


class Sides:
    """The real graph and verdict table of the stack, through the api's own adapters."""

    def __init__(self, stack: EmbeddedStack) -> None:
        self.env = stack.env
        self.keys = [f"reconcile/{RUN}_{index}.jpg" for index in range(4)]

    def run(self, use: Use[T]) -> T:
        async def with_adapters() -> T:
            auth = (self.env["NEO4J_USER"], self.env["NEO4J_PASSWORD"])
            async with AsyncGraphDatabase.driver(self.env["NEO4J_URI"], auth=auth) as driver:
                graph = VerdictProjection(GraphSession(driver, self.env["NEO4J_DATABASE"], 30))
                table = VerdictTable(aws_client(self.env, "dynamodb"),
                                     self.env["VERDICT_TABLE"])
                return await use(graph, table)
        return asyncio.run(with_adapters())

    def cypher(self, statement: str, **parameters: Any) -> list[dict[str, Any]]:
        auth = (self.env["NEO4J_USER"], self.env["NEO4J_PASSWORD"])
        with GraphDatabase.driver(self.env["NEO4J_URI"], auth=auth) as driver:
            records, _, _ = driver.execute_query(statement, parameters,
                                                 database_=self.env["NEO4J_DATABASE"])
            return [record.data() for record in records]

    def review(self, key: str) -> tuple[bool, str, str] | None:
        """The graph's Review of the image's Person: present, reviewer, reviewed_at."""
        rows = self.cypher("MATCH (r:Review {review_key: $k}) "
                           "RETURN r.present AS p, r.reviewer AS w, r.reviewed_at AS t",
                           k=review_key(key, "Person"))
        return None if not rows else (rows[0]["p"], rows[0]["w"], rows[0]["t"])

    def in_force(self, key: str) -> tuple[bool, str, str] | None:
        """The table's verdict in force on the image's Person."""
        async def read(_: VerdictProjection, table: VerdictTable) -> Any:
            return [history.current for history in await table.history(key)]
        [current] = self.run(read) or [None]
        return None if current is None else (current.present, current.reviewer,
                                             current.reviewed_at)


@pytest.fixture
def sides(stack: EmbeddedStack) -> Iterator[Sides]:
    sides = Sides(stack)
    sides.cypher("UNWIND $keys AS key CREATE (:Image {object_key: key})", keys=sides.keys)
    yield sides
    sides.cypher("MATCH (n) WHERE (n:Image OR n:Review) AND n.object_key IN $keys "
                 "DETACH DELETE n", keys=sides.keys)


def _verdict(key: str, present: bool, reviewer: str, at: str) -> StoredVerdict:
    return StoredVerdict(key, "Person", present, reviewer, f"2026-12-0{at}T10:00:00+00:00")


def _judge_then_undo_in_the_table_alone(sides: Sides, key: str, *given: StoredVerdict
                                        ) -> None:
    async def use(graph: VerdictProjection, table: VerdictTable) -> None:
        for verdict in given:
            await graph.project([await table.record(verdict)])
        await table.undo(key, "Person", given[-1].reviewed_at, "ann",
                         "2026-12-07T10:00:00+00:00")
    sides.run(use)


def test_the_start_brings_back_the_verdict_in_force_when_the_graph_missed_an_undo(sides):
    key = sides.keys[0]
    first, second = _verdict(key, True, "ann", "1"), _verdict(key, False, "bob", "2")
    _judge_then_undo_in_the_table_alone(sides, key, first, second)
    assert sides.review(key) == (False, "bob", second.reviewed_at)  # the graph missed it
    sides.run(verdicts.restore_verdicts)
    assert sides.review(key) == sides.in_force(key) == (True, "ann", first.reviewed_at)


def test_the_start_drops_a_review_whose_every_verdict_was_undone(sides):
    key = sides.keys[1]
    _judge_then_undo_in_the_table_alone(sides, key, _verdict(key, True, "ann", "1"))
    assert sides.review(key) is not None
    sides.run(verdicts.restore_verdicts)
    assert sides.review(key) is None and sides.in_force(key) is None


def test_the_start_adopts_a_verdict_only_the_graph_holds_and_keeps_it(sides):
    key = sides.keys[2]
    sides.cypher("CREATE (:Review {review_key: $rk, object_key: $key, label_name: 'Person', "
                 "present: true, reviewer: 'old', reviewed_at: '2026-01-01T00:00:00+00:00'})",
                 rk=review_key(key, "Person"), key=key)
    sides.run(verdicts.restore_verdicts)
    assert sides.review(key) == sides.in_force(key) == (True, "old",
                                                        "2026-01-01T00:00:00+00:00")


def test_adopting_never_brings_back_a_verdict_the_table_holds_as_undone(sides):
    key = sides.keys[3]
    _judge_then_undo_in_the_table_alone(sides, key, _verdict(key, True, "ann", "1"))
    assert sides.run(verdicts.adopt_graph_verdicts) == 0
    assert sides.in_force(key) is None
