import asyncio
import json
import random
from dataclasses import replace

import pytest

from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.fakes import FakeGraph
from labelgraph_graph_writer.handlers import fill_tallies
from labelgraph_graph_writer.recount import Scope, differences, recount_of
from labelgraph_graph_writer.tallies import (
    ANY_DETECTOR,
    ImageFacts,
    bucket,
    decode,
    encode,
    tally_property,
)


def stored(graph: FakeGraph) -> dict:
    return graph.decoded_tallies()


def recounted(events, helpers) -> dict:
    return recount_of(Scope(), helpers.expected_facts(events)).tallies


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
    expected = recount_of(Scope(), helpers.expected_facts(events))
    assert differences(Scope(), expected, stored(graph)) == []
    assert stored(graph) == expected.tallies


def test_buckets_are_floored_and_clamped():
    assert [bucket(c) for c in (0.0, 89.6, 89.999, 90.0, 100.0, 100.5, -1.0)] == [
        0, 89, 89, 90, 100, 100, 0]


def test_an_image_counts_its_best_confidence_over_detectors_in_the_any_view():
    image = ImageFacts("front", "2016-11-30T23:30:05-08:00", ("a", "b"),
                       {"a": {"Person": 60.2}, "b": {"Person": 91.7, "Car": 10.0}})
    tallies = recount_of(Scope(), [image]).tallies
    assert set(tallies) == {("day", "front", "2016-11-30"), ("month", "front", "2016-11")}
    day = tallies[("day", "front", "2016-11-30")]
    assert day == tallies[("month", "front", "2016-11")]
    # hour 23, bucket b: code 23 * 101 + b; images per hour under code = hour
    assert day == {
        tally_property(ANY_DETECTOR, None): {23: 1}, tally_property("a", None): {23: 1},
        tally_property("b", None): {23: 1},
        tally_property(ANY_DETECTOR, "Person"): {23 * 101 + 91: 1},
        tally_property(ANY_DETECTOR, "Car"): {23 * 101 + 10: 1},
        tally_property("a", "Person"): {23 * 101 + 60: 1},
        tally_property("b", "Person"): {23 * 101 + 91: 1},
        tally_property("b", "Car"): {23 * 101 + 10: 1}}


def test_stored_values_are_24_hours_of_images_and_sparse_pairs_of_label_cells():
    images, person = tally_property("a", None), tally_property("a", "Person")
    assert images.startswith("i_") and person.startswith("l_") and len(person) == 26
    assert encode(images, {3: 2, 23: 1}) == [0, 0, 0, 2] + [0] * 19 + [1]
    assert encode(person, {2424: 1, 5: 0, 100: 3}) == [100, 3, 2424, 1]
    assert encode(person, {7: 0}) is None
    assert decode(person, [100, 3, 2424, 1]) == {100: 3, 2424: 1}
    assert decode(images, encode(images, {3: 2, 23: 1})) == {3: 2, 23: 1}
    assert tally_property("a", "Person") != tally_property("a", "person")
    assert tally_property("a,b", None) != tally_property("a", "b")


def test_the_recount_reports_a_count_off_by_one_a_missing_tally_and_a_stale_property(helpers):
    rng = random.Random(5)
    events = helpers.random_history(rng, ["front"], ["Person"], images=3)
    graph = FakeGraph([])
    write_in_batches(graph, list(events), rng)
    held = stored(graph)
    first, second = sorted(held, key=repr)[:2]
    name = sorted(held[first])[0]
    code = sorted(held[first][name])[0]
    held[first][name][code] += 1
    del held[second]
    held[first]["l_stale"] = {5: 1}
    found = differences(Scope(), recount_of(Scope(), helpers.expected_facts(events)), held)
    assert {(difference.key, difference.name) for difference in found} >= {
        (first, name), (first, "l_stale")}
    assert {difference.key for difference in found} == {first, second}
    assert [str(difference) for difference in found if difference.name == "l_stale"] == [
        f'{json.dumps(list(first), separators=(",", ":"))} l_stale (counted by no image): '
        "stored {5: 1}, recounted {}"]


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
    assert stored(graph) == recounted(events, helpers)


def test_a_new_graph_is_marked_complete_without_a_fill():
    graph = FakeGraph([])
    asyncio.run(fill_tallies(graph, 3))
    asyncio.run(fill_tallies(graph, 3))  # known complete: nothing more to do
    assert graph.journal == ["tallies complete: True"]
