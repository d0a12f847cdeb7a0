import asyncio
import json
import random
from dataclasses import replace

import pytest

from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.fakes import FakeGraph
from labelgraph_graph_writer.handlers import fill_tallies
from labelgraph_graph_writer.recount import Scope, differences
from labelgraph_graph_writer.tallies import (
    ANY_DETECTOR,
    ImageFacts,
    Tally,
    add_up,
    bucket,
    contribution,
    tally_key_text,
)


def stored(graph: FakeGraph) -> dict:
    return {tuple(json.loads(key)): tally for key, tally in graph.tallies.items()}


def write_in_batches(graph: FakeGraph, events: list, rng: random.Random) -> None:
    while events:
        size = rng.randint(1, 6)
        batch, events = events[:size], events[size:]
        keys = sorted({event.object_key for event in batch})
        asyncio.run(graph.write_batch(keys, lambda held, batch=batch: plan_batch(batch, held)))


@pytest.mark.parametrize("seed", range(40))
def test_tallies_equal_the_recount_after_any_history_of_labellings(seed, helpers):
    rng = random.Random(seed)
    events = helpers.random_history(rng, ["front", "back"], ["Person", "Car", "Dog"])
    graph = FakeGraph([])
    write_in_batches(graph, list(events), rng)
    expected = helpers.expected_facts(events)
    assert differences(Scope(), expected, stored(graph)) == []
    assert stored(graph) == add_up(expected)


def test_buckets_are_floored_and_clamped():
    assert [bucket(c) for c in (0.0, 89.6, 89.999, 90.0, 100.0, 100.5, -1.0)] == [
        0, 89, 89, 90, 100, 100, 0]


def test_an_image_counts_its_best_confidence_over_detectors_in_the_any_view():
    image = ImageFacts("front", "2016-11-30T23:30:05-08:00", ("a", "b"),
                       {"a": {"Person": 60.2}, "b": {"Person": 91.7, "Car": 10.0}})
    counts = contribution(image)
    date_key = ("date", "front", "2016-11-30", None, "Person", ANY_DETECTOR)
    assert counts[date_key] == Tally(1, {91: 1})
    assert counts[("date", "front", "2016-11-30", None, "Person", "a")] == Tally(1, {60: 1})
    assert counts[("hour", "front", "2016-11-30", 23, None, ANY_DETECTOR)] == Tally(1)
    assert counts[("month_hour", "front", "2016-11", 23, None, "b")] == Tally(1)
    assert counts[("total", None, None, None, "Car", "b")] == Tally(1, {10: 1})
    assert ("total", None, None, None, None, ANY_DETECTOR) not in counts


def test_the_recount_reports_a_tally_off_by_one_and_one_missing(helpers):
    rng = random.Random(5)
    events = helpers.random_history(rng, ["front"], ["Person"], images=3)
    graph = FakeGraph([])
    write_in_batches(graph, list(events), rng)
    held = stored(graph)
    some_key = sorted(held, key=repr)[0]
    held[some_key] = Tally(held[some_key].images + 1, held[some_key].buckets)
    missing = sorted(held, key=repr)[1]
    del held[missing]
    found = differences(Scope(), helpers.expected_facts(events), held)
    assert [difference.key for difference in found] == sorted(
        [some_key, missing], key=tally_key_text)
    assert any(difference.stored == Tally() for difference in found)


@pytest.mark.parametrize("seed", range(10))
def test_an_older_graph_is_counted_once_while_its_images_are_relabelled(seed, helpers):
    rng = random.Random(seed)
    events = helpers.random_history(rng, ["front", "back"], ["Person", "Car"])
    older, later = events[:len(events) // 2], events[len(events) // 2:]
    graph = FakeGraph([])
    write_in_batches(graph, list(older), rng)
    # As a writer before tallies left it: no tally, no image counted.
    graph.held = {key: replace(state, tallied=False) for key, state in graph.held.items()}
    graph.tallies.clear()
    first_date = asyncio.run(graph.image_dates())[0]
    asyncio.run(graph.count_uncounted(first_date, 2))  # a fill cut short by a stop
    write_in_batches(graph, list(later), rng)  # relabels of counted and uncounted images
    asyncio.run(fill_tallies(graph, 3))
    assert graph.complete is True
    assert stored(graph) == add_up(helpers.expected_facts(events))


def test_a_new_graph_is_marked_complete_without_a_fill():
    graph = FakeGraph([])
    asyncio.run(fill_tallies(graph, 3))
    asyncio.run(fill_tallies(graph, 3))  # known complete: nothing more to do
    assert graph.journal == ["tallies complete: True"]
