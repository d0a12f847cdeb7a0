"""On a real Neo4j 5, where a Docker engine answers: every windowed statement of the api
starts from an index seek (the time tree's dates, a label, an image key), never a scan of
every image. Without an engine every test here is reported as skipped, with the reason.

ArcadeDB here plans differently (it anchors on the first node and ignores range indexes),
so this checks the statements where Neo4j's planner is the one that decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import ServiceUnavailable

from labelgraph_api import queries as api
from labelgraph_devstack.polling import wait_for
from labelgraph_graph_writer import cypher as writer

NEO4J_IMAGE = "neo4j:5.26.12-community"  # compose.yaml's
PARAMETERS: dict[str, Any] = {
    "dates": ["2016-11-04", "2016-11-05"], "since": 1478300000, "until": 1478400000,
    "label": "Person", "labels": ["Person"], "detector": None, "cameras": None,
    "min_confidence": 90.0, "max_confidence": 100.0, "width": None, "hour": None,
    "after_ts": 2**62, "after_key": "", "after_score": -1.0, "limit": 50, "by": ["month"],
    "object_key": "alarms/frontdoor/x.jpg", "timestamps": [1478350000],
}
# Each statement and the index it must start from.
WINDOWED = {
    "SIGHTINGS_ON_DATES": "NodeUniqueIndexSeek", "HISTOGRAM_ON_DATES": "NodeUniqueIndexSeek",
    "IMAGES_ON_DATES": "NodeUniqueIndexSeek", "ROLLUP_ON_DATES": "NodeUniqueIndexSeek",
    "UNLABELLED_ON_DATES": "NodeUniqueIndexSeek", "LABELLED_ON_DATES": "NodeUniqueIndexSeek",
    "SIGHTINGS_OF_LABEL": "NodeUniqueIndexSeek", "HISTOGRAM_OF_LABEL": "NodeUniqueIndexSeek",
    "IMAGES_OF_LABEL": "NodeUniqueIndexSeek", "LABELLED_OF_LABEL": "NodeUniqueIndexSeek",
    "CAMERA_SPANS_ON_DATES": "NodeUniqueIndexSeek", "IMAGE": "NodeUniqueIndexSeek",
    "IMAGE_EXISTS": "NodeUniqueIndexSeek", "IMAGE_COUNT_ON_DATES": "NodeUniqueIndexSeek",
    "CAPTURES_ON_DATES": "NodeUniqueIndexSeek", "LABEL_NAMED": "NodeUniqueIndexSeek",
}


@pytest.fixture(scope="module")
def neo4j(engine: Any) -> Iterator[Any]:
    password = secrets.token_hex(8)
    container = engine.containers.run(NEO4J_IMAGE, detach=True, remove=True,
                                      environment={"NEO4J_AUTH": f"neo4j/{password}"},
                                      ports={"7687/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        port = container.ports["7687/tcp"][0]["HostPort"]
        driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", password))
        wait_for(lambda: _answers(driver), timeout=180, interval=1)
        for statement in (*writer.SCHEMA, *api.SCHEMA):
            driver.execute_query(statement)
        yield driver
        driver.close()
    finally:
        container.stop(timeout=10)


def _answers(driver: Any) -> bool:
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, OSError):
        return False
    return True


def operators(plan: dict[str, Any]) -> list[str]:
    found = [plan["operatorType"].split("@")[0]]
    for child in plan.get("children", []):
        found += operators(child)
    return found


def leaves(plan: dict[str, Any]) -> list[str]:
    children = plan.get("children", [])
    if not children:
        return [plan["operatorType"].split("@")[0]]
    return [leaf for child in children for leaf in leaves(child)]


@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_each_windowed_statement_starts_from_an_index_seek(neo4j: Any, name: str) -> None:
    with neo4j.session() as session:
        plan = session.run("EXPLAIN " + getattr(api, name), PARAMETERS).consume().plan
    assert plan is not None
    assert WINDOWED[name] in operators(plan), operators(plan)
    assert "AllNodesScan" not in leaves(plan), leaves(plan)
