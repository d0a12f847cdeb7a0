import asyncio
import json
import logging
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.fakes import FakeGraph
from labelgraph_graph_writer.handlers import (
    fill_label_counts,
    fill_tallies,
    fold_periodically,
    fold_settled_days,
)
from labelgraph_graph_writer.recount import Scope, label_differences, labels_of, recount
from labelgraph_graph_writer.tallies import (
    ANY_DETECTOR,
    SEVERAL_DETECTORS,
    ImageFacts,
    TallyState,
    bucket,
    changes,
    contribution,
    decode,
    encode,
    meanings,
    shard_of,
    stored_cells,
    tally_property,
)


def differences(graph: FakeGraph, events, helpers, scope=None) -> list:
    return recount(scope or Scope(), helpers.expected_facts(events), graph.tallies).differences


def write_in_batches(graph: FakeGraph, events: list, rng: random.Random) -> None:
    """Small batches; between them, now and then, the clock moves and settled days fold."""
    while events:
        size = rng.randint(1, 6)
        batch, events = events[:size], events[size:]
        keys = sorted({event.object_key for event in batch})
        asyncio.run(graph.write_batch(keys, lambda held, batch=batch: plan_batch(batch, held)))
        graph.now += rng.choice([0, 0, 1, 5])
        if rng.random() < 0.3 or not any(key[0] == "month" for key in graph.tallies):
            graph.now += 10  # past the settle time below
            asyncio.run(graph.fold_settled_days(graph.now - 10, rng.randint(1, 3)))


@pytest.mark.parametrize("seed", range(40))
def test_tallies_equal_the_recount_after_any_history_of_labellings(seed, helpers):
    rng = random.Random(seed)
    events = helpers.random_history(rng, ["front", "back"], ["Person", "Car", "Dog"])
    graph = FakeGraph([])
    write_in_batches(graph, list(events), rng)
    assert differences(graph, events, helpers) == []
    assert any(key[0] == "month" for key in graph.tallies), "some day was folded"
    asyncio.run(fold_settled_days(graph, settle_seconds=-1))  # every day folds
    assert differences(graph, events, helpers) == []
    checked = recount(Scope(), helpers.expected_facts(events), graph.tallies)
    days = {key: stored_cells(props) for key, props in graph.tallies.items() if len(key) == 3}
    assert {key: counts for key, counts in days.items() if counts} == checked.days
    shards = {key: stored_cells(props) for key, props in graph.tallies.items() if len(key) == 4}
    assert {key: counts for key, counts in shards.items() if counts} == checked.shards
    assert all(props["dates"] == [] for key, props in graph.tallies.items()
               if key[0] == "unfolded")
    assert nonzero_counts(graph) == expected_label_counts(helpers.expected_facts(events))
    assert several_per_day(graph) == expected_several(helpers.expected_facts(events))


def several_per_day(graph: FakeGraph) -> dict:
    """The images with several detectors per hour each day tally holds."""
    return {key: decode(SEVERAL_DETECTORS, props[SEVERAL_DETECTORS])
            for key, props in graph.tallies.items()
            if key[0] == "day" and props.get(SEVERAL_DETECTORS)}


def expected_several(facts) -> dict:
    """The images two detectors or more labelled, per camera-local day and hour, computed
    independently of the writer."""
    counts: dict = {}
    for image in facts:
        if len(image.detectors) > 1:
            hours = counts.setdefault(("day", image.camera, image.isodate[:10]), {})
            hour = int(image.isodate[11:13])
            hours[hour] = hours.get(hour, 0) + 1
    return counts


def nonzero_counts(graph: FakeGraph) -> dict:
    return {name: count for name, count in graph.label_counts.items() if count != 0}


def expected_label_counts(facts) -> dict:
    """Each label's edges after a history (those it has), computed independently of the
    writer."""
    counts: dict = {}
    for image in facts:
        for by_label in image.labels.values():
            for name in by_label:
                counts[name] = counts.get(name, 0) + 1
    return counts


def test_buckets_are_floored_and_clamped():
    assert [bucket(c) for c in (0.0, 89.6, 89.999, 90.0, 100.0, 100.5, -1.0)] == [
        0, 89, 89, 90, 100, 100, 0]


def test_an_image_counts_its_best_confidence_over_detectors_in_the_any_view():
    image = ImageFacts("front", "2016-11-30T23:30:05-08:00", ("a", "b"),
                       {"a": {"Person": 60.2}, "b": {"Person": 91.7, "Car": 10.0}})
    day = ("day", "front", "2016-11-30")
    unfolded = recount(Scope(), [image], {day: {"folded": False}})
    assert (list(unfolded.days), unfolded.shards) == ([day], {})  # folded days only
    assert unfolded.unfolded == {("unfolded", "front"): ["2016-11-30"]}
    # hour 23, bucket b: code 23 * 101 + b; images per hour under code = hour
    person = tally_property(ANY_DETECTOR, "Person")
    assert unfolded.days[day] == {
        SEVERAL_DETECTORS: {23: 1},  # two detectors labelled it
        tally_property(ANY_DETECTOR, None): {23: 1}, tally_property("a", None): {23: 1},
        tally_property("b", None): {23: 1}, person: {23 * 101 + 91: 1},
        tally_property(ANY_DETECTOR, "Car"): {23 * 101 + 10: 1},
        tally_property("a", "Person"): {23 * 101 + 60: 1},
        tally_property("b", "Person"): {23 * 101 + 91: 1},
        tally_property("b", "Car"): {23 * 101 + 10: 1}}
    folded = recount(Scope(), [image], {day: {"folded": True}}).shards
    shard = shard_of(person)
    assert folded[("month", "front", "2016-11", shard)][person] == {23 * 101 + 91: 1}
    assert folded[("total", "front", None, shard)][person] == {23 * 101 + 91: 1}
    assert sum(len(counts) for counts in folded.values()) == 2 * len(unfolded.days[day])


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


def test_the_recount_reports_a_wrong_count_a_missing_tally_a_stale_node_and_the_registry(
        helpers):
    rng = random.Random(5)
    events = helpers.random_history(rng, ["front"], ["Person"], images=6)
    graph = FakeGraph([])
    write_in_batches(graph, list(events), rng)
    asyncio.run(fold_settled_days(graph, settle_seconds=-1))
    days = sorted(key for key in graph.tallies if key[0] == "day")
    month = sorted(key for key in graph.tallies if key[0] == "month")[0]
    name = sorted(stored_cells(graph.tallies[days[0]]))[0]
    graph.tallies[days[0]][name] = encode(name, {0: 7})
    del graph.tallies[days[1]]
    stale = ("total", "front", None, 3)
    graph.tallies[stale] = {"l_stale": [5, 1]}
    graph.tallies[("unfolded", "front")]["dates"] = ["2016-01-01"]
    emptied = sorted(stored_cells(graph.tallies[month]))[0]
    del graph.tallies[month][emptied]
    found = recount(Scope(), helpers.expected_facts(events), graph.tallies).differences
    assert {(difference.key, difference.name) for difference in found} >= {
        (days[0], name), (month, emptied), (stale, "l_stale"), (("unfolded", "front"), "dates")}
    assert days[1] in {difference.key for difference in found}
    assert [str(difference) for difference in found if difference.name == "l_stale"] == [
        f'{json.dumps(list(stale), separators=(",", ":"))} l_stale (counted by no image): '
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
    assert graph.tally_marker == TallyState(complete=True, counts_several=True)
    assert differences(graph, events, helpers) == []
    assert several_per_day(graph) == expected_several(helpers.expected_facts(events))


def test_a_new_graph_is_marked_complete_without_a_fill():
    graph = FakeGraph([])
    asyncio.run(fill_tallies(graph, 3))
    asyncio.run(fill_tallies(graph, 3))  # known complete: nothing more to do
    assert graph.journal == ["tallies complete: True, counts several detectors: True"]


def older_graph(helpers, marker: TallyState | None) -> FakeGraph:
    """A graph written by a writer before tallies (some images two detectors labelled),
    its TallyState as `marker`."""
    rng = random.Random(4)
    graph = FakeGraph([])
    write_in_batches(graph, helpers.random_history(rng, ["front"], ["Person"]), rng)
    graph.held = {key: replace(state, tallied=False) for key, state in graph.held.items()}
    graph.tallies.clear()
    graph.tally_marker = marker
    return graph


def test_a_graph_filled_from_before_tallies_counts_several_detectors(helpers):
    graph = older_graph(helpers, None)
    asyncio.run(fill_tallies(graph, 3))
    assert graph.tally_marker == TallyState(complete=True, counts_several=True)
    assert several_per_day(graph) != {}, "some image has two detectors"


@pytest.mark.parametrize("marker", [TallyState(complete=True, counts_several=False),
                                    TallyState(complete=False, counts_several=False)])
def test_a_graph_counted_before_several_detectors_were_keeps_no_flag(helpers, marker):
    # Complete: nothing is counted again. A fill begun before: the images it counted
    # count no several detectors, so the flag stays absent when it ends.
    graph = older_graph(helpers, marker)
    asyncio.run(fill_tallies(graph, 3))
    assert graph.tally_marker == TallyState(complete=True, counts_several=False)
    marked = [entry for entry in graph.journal if entry.startswith("tallies complete")]
    assert marked == ([] if marker.complete else [
        "tallies complete: False, counts several detectors: False",
        "tallies complete: True, counts several detectors: False"])


def test_an_image_counts_in_several_detectors_once_two_detectors_labelled_it():
    one = ImageFacts("front", "2016-11-30T07:10:00+05:30", ("a",), {"a": {"Person": 91.0}})
    two = replace(one, detectors=("a", "b"), labels={**one.labels, "b": {}})
    assert (SEVERAL_DETECTORS, 7) not in contribution(one)
    assert (SEVERAL_DETECTORS, 7) in contribution(two)
    assert meanings(two)[SEVERAL_DETECTORS] == "images with several detectors"
    assert SEVERAL_DETECTORS not in meanings(one)
    # A recount or repair that finds one detector where two were counted takes it away.
    [row] = changes([two], [one])
    assert row["deltas"][SEVERAL_DETECTORS] == {7: -1}
    assert SEVERAL_DETECTORS.startswith("i_") and len(SEVERAL_DETECTORS) == len(
        tally_property("a", None))
    # No view's name is it, whatever the view is called.
    assert SEVERAL_DETECTORS not in {tally_property(view, None) for view in (
        "several detectors", '["several detectors"]', ANY_DETECTOR, "")}


def test_a_relabel_moving_an_image_moves_its_several_detectors_count(helpers):
    graph = FakeGraph([])
    first = helpers.make_event("front", 0, {"Person": 95.0}, detector="a")
    second = helpers.make_event("front", 0, {}, detector="b", minutes=1)
    moved = helpers.make_event("front", 0, {"Person": 40.0}, detector="a", minutes=2,
                               captured=first.captured_at + timedelta(days=1, hours=3),
                               key=first.object_key)
    first_day = {("day", "front", first.captured_at.date().isoformat()): {
        first.captured_at.hour: 1}}
    assert expected_several(helpers.expected_facts([first, second])) == first_day
    for event, several in ((first, {}), (second, first_day), (moved, None)):
        asyncio.run(graph.write_batch([event.object_key],
                                      lambda held, event=event: plan_batch([event], held)))
        if several is not None:
            assert several_per_day(graph) == several
    written = [first, second, moved]
    assert several_per_day(graph) == expected_several(helpers.expected_facts(written))
    assert several_per_day(graph) == {("day", "front", moved.captured_at.date().isoformat()): {
        moved.captured_at.hour: 1}}


def test_a_fold_that_fails_is_logged_and_done_in_a_later_round(helpers, caplog):
    events = helpers.random_history(random.Random(3), ["front"], ["Person"], images=4)
    graph = FakeGraph([])
    asyncio.run(graph.write_batch(sorted({event.object_key for event in events}),
                                  lambda held: plan_batch(events, held)))
    graph.failures = [RuntimeError("boom")]

    async def fold_for_a_while() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(fold_periodically(graph, -1, 0.01, stop))
        while any(props.get("folded") is False for props in graph.tallies.values()):
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(asyncio.wait_for(fold_for_a_while(), 10))
    assert "tally fold failed, tried again next round: RuntimeError: boom" in caplog.text
    assert differences(graph, events, helpers) == []


@pytest.mark.parametrize("seed", range(10))
def test_labels_written_before_the_counter_keep_none_until_the_fill_counts_them(
        seed, helpers, caplog):
    rng = random.Random(seed)
    events = helpers.random_history(rng, ["front", "back"], ["Person", "Car", "Dog"])
    older, later = events[:len(events) // 2], events[len(events) // 2:]
    graph = FakeGraph([])
    write_in_batches(graph, list(older), rng)
    graph.label_counts = dict.fromkeys(graph.label_counts)  # as a writer before it left them
    write_in_batches(graph, list(later), rng)  # relabels add to and drop from those labels
    uncounted = sorted(name for name, count in graph.label_counts.items() if count is None)
    assert uncounted, "a label written before the counter is still without one"
    degrees = {name: graph.degree(name) for name in graph.label_counts}
    assert all(graph.label_counts[name] == degrees[name] for name in graph.label_counts
               if name not in uncounted), "a label made since counts from its start"
    with caplog.at_level(logging.INFO):
        assert asyncio.run(fill_label_counts(graph, chunk=1)) == len(uncounted)
    assert graph.label_counts == degrees
    assert nonzero_counts(graph) == expected_label_counts(helpers.expected_facts(events))
    assert "counted the edges of the labels written before the edge counter" in caplog.text


def test_the_recount_reports_a_label_counter_that_is_not_its_degree_but_not_a_missing_one():
    found = label_differences({"Person": (7, 6), "Car": (None, 4), "Dog": (2, 2)})
    assert [str(difference) for difference in found] == [
        '["label","Person"] edge_count (its HAS_LABEL edges): stored 7, recounted 6']
    assert labels_of([ImageFacts("front", "2016-11-30T23:30:05-08:00", ("a", "b"),
                                 {"a": {"Person": 60.2}, "b": {"Car": 1.0, "Person": 9.0}})]
                     ) == ["Car", "Person"]


def test_a_day_holds_the_utc_offsets_of_its_captures_and_keeps_them(helpers):
    # 2016-11-06 in Los Angeles: captures at -07:00 before 02:00, at -08:00 after; a new
    # capture in an hour the day already counts, at another offset, grows them too.
    graph = FakeGraph([])
    day = ("day", "front", "2016-11-06")
    pacific = timezone(timedelta(hours=-8))
    history = [helpers.make_event("front", 1, {"Person": 90.0},
                                  captured=datetime(2016, 11, 6, 1, 30, tzinfo=timezone(
                                      timedelta(hours=-7)))),
               helpers.make_event("front", 2, {"Person": 80.0},
                                  captured=datetime(2016, 11, 6, 9, tzinfo=pacific))]
    write_in_batches(graph, history[:1], random.Random(1))
    assert graph.tallies[day]["utc_offsets"] == [-420]
    write_in_batches(graph, history[1:], random.Random(1))
    assert graph.tallies[day]["utc_offsets"] == [-480, -420]
    # The same hour as the first capture at a third offset: the counts stay, not the offsets.
    later = helpers.make_event("front", 3, {"Person": 90.0},
                               captured=datetime(2016, 11, 6, 1, 10, tzinfo=timezone(
                                   timedelta(hours=-6))))
    relabelled = helpers.make_event("front", 2, {}, minutes=5,
                                    captured=datetime(2016, 11, 6, 9, tzinfo=pacific))
    write_in_batches(graph, [later, relabelled], random.Random(1))
    assert graph.tallies[day]["utc_offsets"] == [-480, -420, -360], "only ever grown"
    assert differences(graph, [*history, later, relabelled], helpers) == []
    asyncio.run(fold_settled_days(graph, settle_seconds=-1))
    assert graph.tallies[day]["folded"] is True
    assert not [key for key, props in graph.tallies.items()
                if key[0] != "day" and "utc_offsets" in props], "a fold folds counts only"


def test_a_day_written_before_offsets_is_given_none_by_a_batch(helpers):
    # Its images' offsets are unknown: part of them would tell readers a narrower day.
    graph = FakeGraph([])
    first = helpers.make_event("front", 1, {"Person": 90.0})
    write_in_batches(graph, [first], random.Random(1))
    day = next(key for key in graph.tallies if key[0] == "day")
    del graph.tallies[day]["utc_offsets"]
    write_in_batches(graph, [helpers.make_event("front", 1, {"Car": 50.0}, minutes=1)],
                     random.Random(1))
    assert "utc_offsets" not in graph.tallies[day]


def test_the_recount_reports_a_day_missing_an_offset_and_repairs_it(helpers):
    graph = FakeGraph([])
    events = [helpers.make_event("front", index, {"Person": 90.0}, captured=datetime(
        2016, 11, 6, index, tzinfo=timezone(timedelta(hours=-8 + index % 2))))
        for index in range(4)]
    write_in_batches(graph, events, random.Random(2))
    day = ("day", "front", "2016-11-06")
    assert graph.tallies[day]["utc_offsets"] == [-480, -420]
    graph.tallies[day]["utc_offsets"] = [-480, -420, -300]  # more is only careful
    assert differences(graph, events, helpers) == []
    graph.tallies[day]["utc_offsets"] = [-480]
    found = differences(graph, events, helpers)
    assert [(d.key, d.name, d.stored, d.recounted) for d in found] == [
        (day, "utc_offsets", [-480], [-480, -420])]
    del graph.tallies[day]["utc_offsets"]
    checked = recount(Scope(), helpers.expected_facts(events), graph.tallies)
    assert [(d.key, d.stored) for d in checked.differences] == [(day, None)]
    repaired = {row["key"]: row["props"] for row in checked.repairs()}
    assert repaired[json.dumps(list(day), separators=(",", ":"))]["utc_offsets"] == [
        -480, -420]
