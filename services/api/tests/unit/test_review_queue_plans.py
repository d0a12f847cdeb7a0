"""The review queue's phases against a fake Bolt session: which statements a page costs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from labelgraph_api import queries
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.domain import DISAGREEMENT, UNLABELLED
from labelgraph_api.windows import LATEST, window

DAYS = [f"2016-11-{day:02d}" for day in range(1, 29)]  # a month: the long-window plans
SCOPE = {"label": "Person", "cameras": None, "threshold": 90.0, "thresholds": {}}


def item(key: str, timestamp: int) -> dict[str, Any]:
    return {"object_key": key, "timestamp": timestamp, "labels": [], "detectors": []}


class FakeSession:
    """Answers each queue statement with its own image; records every statement asked."""

    def __init__(self, detectors: list[list[str]]) -> None:
        self.detectors = detectors  # the `detectors` of the window's images
        self.asked: list[str] = []

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        self.asked.append(query)
        if query == queries.DETECTORS_ON_DATES:
            lists = self.detectors[:parameters["limit"]]
            return [{"detectors": names, "images": lists.count(names)}
                    for names in map(list, {tuple(names) for names in lists})]
        name = {queries.DISAGREEING_OF_LABEL: "disagreeing",
                queries.UNLABELLED_ON_DATES: "unlabelled",
                queries.LABELLED_OF_LABEL: "labelled"}[query]
        if query == queries.UNLABELLED_ON_DATES and parameters["dates"] != DAYS[-3:]:
            return []  # one unlabelled image, on the newest dates
        return [item(name, 1_000)]


def first_page(session: FakeSession, after: tuple[float, int, str] | None = None) -> list[str]:
    span = window(None, None, DAYS)
    reads = CypherReads(session)  # type: ignore[arg-type]
    rows = asyncio.run(reads.review_queue(span, after, 10, **SCOPE))
    return [row["object_key"] for row in rows]


def test_with_one_detector_the_first_page_never_looks_for_disagreements():
    graph = FakeSession([["aws-rekognition"]] * 5)
    assert first_page(graph) == ["unlabelled", "labelled"]
    assert queries.DISAGREEING_OF_LABEL not in graph.asked
    assert graph.asked[0] == queries.DETECTORS_ON_DATES


def test_graphs_written_before_detectors_were_listed_have_none_to_disagree():
    graph = FakeSession([[]] * 5)
    assert first_page(graph) == ["unlabelled", "labelled"]
    assert queries.DISAGREEING_OF_LABEL not in graph.asked


@pytest.mark.parametrize("detectors", [
    [["aws-rekognition", "opencv-hog"]],                      # both on one image
    [["aws-rekognition"], ["opencv-hog"], ["aws-rekognition"]],  # each on its own images
])
def test_two_detectors_in_the_scanned_images_put_disagreements_first(detectors):
    graph = FakeSession(detectors)
    assert first_page(graph) == ["disagreeing", "unlabelled", "labelled"]


def test_a_page_inside_the_disagreements_goes_on_without_a_new_scan():
    graph = FakeSession([["aws-rekognition"]])
    assert first_page(graph, (DISAGREEMENT, LATEST - 1, "")) == [
        "disagreeing", "unlabelled", "labelled"]
    assert queries.DETECTORS_ON_DATES not in graph.asked
    later = FakeSession([["aws-rekognition", "opencv-hog"]])
    assert first_page(later, (UNLABELLED, LATEST - 1, "")) == ["unlabelled", "labelled"]
    assert later.asked[0] == queries.UNLABELLED_ON_DATES
