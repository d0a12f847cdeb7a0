"""The review queue's phases against a fake Bolt session: which statements a page costs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from labelgraph_api import queries
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.domain import DISAGREEMENT, UNLABELLED
from labelgraph_api.tallies import SEVERAL_DETECTORS, TALLY_VERSION, day_key, tally_property
from labelgraph_api.windows import LATEST, window

DAYS = [f"2016-11-{day:02d}" for day in range(1, 29)]  # a month: the long-window plans
SCOPE = {"label": "Person", "cameras": None, "threshold": 90.0, "thresholds": {}}


def item(key: str, timestamp: int) -> dict[str, Any]:
    return {"object_key": key, "timestamp": timestamp, "labels": [], "detectors": []}


class FakeSession:
    """Answers each queue statement with its own image; records every statement asked.
    Its tallies count every image (TallyState complete): one without a label on camera
    "front" in the first hour of the newest date; with `several_months` the images two
    detectors labelled too: one a month of those, on camera "front"."""

    def __init__(self, detectors: list[list[str]], several_months: set[str] | None = None
                 ) -> None:
        self.detectors = detectors  # the `detectors` of the window's images
        self.several_months = several_months
        self.asked: list[str] = []
        self.dates_asked: list[list[str]] = []  # the dates of each DISAGREEING_ON_DATES
        self.levels_read: set[str] = set()  # the levels of the thin tallies' keys read

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        self.asked.append(query)
        if query == queries.DETECTORS_ON_DATES:
            lists = self.detectors[:parameters["limit"]]
            return [{"detectors": names, "images": lists.count(names)}
                    for names in map(list, {tuple(names) for names in lists})]
        if query in TALLY_QUERIES:
            return TALLY_QUERIES[query](self, **parameters)
        if query == queries.DISAGREEING_ON_DATES:
            self.dates_asked.append(parameters["dates"])
            if len(self.dates_asked) > 1:
                return []  # one disagreement, on the newest dates walked
        name = {queries.DISAGREEING_OF_LABEL: "disagreeing",
                queries.DISAGREEING_ON_DATES: "disagreeing",
                queries.UNLABELLED_ON_HOURS: "unlabelled",
                queries.LABELLED_OF_LABEL: "labelled"}[query]
        if query == queries.UNLABELLED_ON_HOURS and parameters["camera_hours"] != [
                f"{DAYS[-1]}T00front"]:
            return []  # one unlabelled image, in the hour the day tallies count it
        return [item(name, 1_000)]

    def tally_state(self) -> list[dict[str, Any]]:
        return [{"complete": True, "version": TALLY_VERSION,
                 "counts_several": self.several_months is not None}]

    def thin_tallies(self, keys: list[str], property: str) -> list[dict[str, Any]]:
        """Month shards: one image two detectors labelled in each of several_months, on
        "front", and all time's shard counting them; registries holding no unfolded day."""
        rows = []
        for key in map(json.loads, keys):
            self.levels_read.add(key[0])
            if key[0] == "unfolded":
                rows.append({"level": "unfolded", "camera": key[1], "period": None,
                             "cells": None, "dates": []})
                continue
            months = self.several_months or set()
            counted = (property == SEVERAL_DETECTORS and key[1] == "front"
                       and (key[2] in months if key[0] == "month" else bool(months)))
            rows.append({"level": key[0], "camera": key[1], "period": key[2],
                         "cells": [1] + [0] * 23 if counted else None, "dates": None})
        return rows


TALLY_QUERIES = {
    queries.TALLY_STATE: lambda session: session.tally_state(),
    queries.CAMERAS: lambda session: [{"camera": "front"}, {"camera": "back"}],
    queries.TALLY_THIN: FakeSession.thin_tallies,
    queries.TALLY_CELLS: lambda session, keys, property: [
        {"camera": "front", "period": DAYS[-1], "cells": [1] + [0] * 23, "offsets": [0]}
        for key in keys if key == day_key("front", DAYS[-1])
        and property == tally_property(None, None)],
}


def first_page(session: FakeSession, after: tuple[float, int, str] | None = None,
               days: list[str] = DAYS) -> list[str]:
    span = window(None, None, days)
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
    assert queries.DETECTORS_ON_DATES not in later.asked
    assert queries.UNLABELLED_ON_HOURS in later.asked


# Over all time on a graph whose tallies count the images two detectors labelled: the
# forced disagreement phase reads only the months where they count one.
OCTOBER = [f"2016-10-{day:02d}" for day in range(1, 32)]
PHASE_START = (DISAGREEMENT, LATEST - 1, "")


def test_tallies_with_no_image_two_detectors_labelled_skip_the_phase_without_reading_images():
    graph = FakeSession([["aws-rekognition"]], several_months=set())
    assert first_page(graph, PHASE_START, OCTOBER + DAYS) == ["unlabelled", "labelled"]
    assert graph.levels_read == {"total", "unfolded"}, "all time's counts say none: no month"
    assert queries.DISAGREEING_ON_DATES not in graph.asked
    assert queries.DISAGREEING_OF_LABEL not in graph.asked
    # Tallies counted before they counted several detectors say nothing of them: the
    # phase makes its pass over the label's edges, as it did before them.
    older = FakeSession([["aws-rekognition"]])
    assert first_page(older, PHASE_START, OCTOBER + DAYS) == [
        "disagreeing", "unlabelled", "labelled"]
    assert queries.DISAGREEING_OF_LABEL in older.asked
    assert queries.TALLY_THIN not in older.asked


def test_tallies_send_the_phase_to_the_months_where_two_detectors_labelled_images():
    graph = FakeSession([["aws-rekognition"]], several_months={"2016-10"})
    assert first_page(graph, PHASE_START, OCTOBER + DAYS) == [
        "disagreeing", "unlabelled", "labelled"]
    assert queries.DISAGREEING_OF_LABEL not in graph.asked
    walked = [day for dates in graph.dates_asked for day in dates]
    assert sorted(walked) == OCTOBER, "October's dates, each once, and no other"
    assert graph.levels_read == {"total", "month", "unfolded"}

