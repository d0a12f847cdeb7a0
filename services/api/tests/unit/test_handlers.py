"""The api's use cases over the fakes of labelgraph_api.fakes: no server, milliseconds each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from labelgraph_api.domain import BadRequest, StoredVerdict, UnknownName
from labelgraph_api.fakes import FakeImage, FakeWorld, fake_world
from labelgraph_api.handlers import accuracy, images, labels, rollups, verdicts

NOW = datetime.now(UTC).replace(microsecond=0)
PACIFIC = timedelta(hours=-8)


def image(key: str, camera: str, minutes_ago: int, **labels: float) -> FakeImage:
    """An image Rekognition labelled; `labels` maps a name to its confidence."""
    moment = NOW - timedelta(minutes=minutes_ago)
    stamped = moment.astimezone(timezone(PACIFIC)).isoformat()
    return FakeImage(key, camera, int(moment.timestamp()), stamped,
                     {(name, "aws-rekognition"): value for name, value in labels.items()},
                     ["aws-rekognition"])


@pytest.fixture
def world() -> FakeWorld:
    return fake_world([
        image("a", "front", 10, Person=99.0, Car=60.0),
        image("b", "front", 20, Person=40.0),
        image("c", "back", 30, Car=80.0),
        image("d", "back", 40),
        image("e", "front", 300, Person=95.0),  # outside the heat map's two hours
    ])


def search(world: FakeWorld, **asked: object) -> dict:
    params = {"cameras": None, "labels": [], "min_confidence": None, "max_confidence": None,
              "since": None, "until": None, "hour": None, "detector": None, "limit": 2,
              "cursor": None, "query": "q", **asked}
    return images.search_images(world.reads, world.links, **params)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_image_pages_follow_their_cursor_to_the_end_without_repeats(world):
    keys, cursor, pages = [], None, 0
    while True:
        page = await search(world, cursor=cursor)
        keys += [item["object_key"] for item in page["items"]]
        assert all(item["url"].endswith(item["object_key"]) for item in page["items"])
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
    assert keys == ["a", "b", "c", "d", "e"] and pages == 3


@pytest.mark.asyncio
async def test_a_confidence_range_needs_a_label_and_a_window_its_order(world):
    with pytest.raises(BadRequest, match="needs at least one label"):
        await search(world, min_confidence=50)
    with pytest.raises(BadRequest, match="since must be before until"):
        await search(world, since=NOW, until=NOW - timedelta(hours=1))


@pytest.mark.asyncio
async def test_a_label_asked_in_another_case_finds_the_graphs_spelling(world):
    page = await search(world, labels=["person"], limit=10)
    assert [item["object_key"] for item in page["items"]] == ["a", "b", "e"]


@pytest.mark.asyncio
async def test_the_heat_map_covers_two_hours_and_says_the_latest_on_the_camera_clock(world):
    body = await labels.sightings(world.reads, label="PERSON", since=None, until=None,
                                  cameras=None, min_confidence=90, detector=None)
    assert body["label"] == "Person" and body["until"] - body["since"] == timedelta(hours=2)
    assert [(row["camera"], row["images"]) for row in body["cameras"]] == [("front", 1)]
    latest = body["cameras"][0]["last_captured_at"]
    assert latest.endswith("-08:00") and latest == world.reads.images[0].captured_at


@pytest.mark.asyncio
async def test_the_histogram_counts_the_images_without_the_label_in_its_scope(world):
    body = await labels.confidence_histogram(world.reads, label="Person", cameras=None,
                                             since=None, until=None, detector=None,
                                             bucket_width=None, threshold=90)
    assert body["images"] == 3 and body["without_label"] == 2
    front = await labels.confidence_histogram(world.reads, label="Person", cameras=["front"],
                                              since=None, until=None, detector=None,
                                              bucket_width=None, threshold=90)
    assert front["without_label"] == 0
    # Another detector labelled an image of another camera only: none of front's are in
    # its scope, and that is an answer, not an unknown detector.
    world.reads.images.append(FakeImage("h", "side", int(NOW.timestamp()), NOW.isoformat(),
                                        {("Car", "opencv-hog"): 70.0}, ["opencv-hog"]))
    other = await labels.confidence_histogram(world.reads, label="Person", cameras=["front"],
                                              since=None, until=None, detector="opencv-hog",
                                              bucket_width=None, threshold=90)
    assert other["images"] == other["without_label"] == 0


@pytest.mark.asyncio
async def test_the_histogram_counts_at_or_above_its_threshold_from_the_confidences():
    # Confidences just under 90 are in the 89 bucket, [89, 90), and never at or above 90.
    world = fake_world([image(key, "front", 10, Person=value) for key, value in
                        (("a", 89.52), ("b", 89.96), ("c", 90.0), ("d", 95.0))])

    async def at(threshold: float) -> dict:
        return await labels.confidence_histogram(
            world.reads, label="Person", cameras=None, since=None, until=None,
            detector=None, bucket_width=None, threshold=threshold)

    body = await at(90)
    assert body["threshold"] == 90 and body["at_or_above"] == 2 and body["images"] == 4
    assert body["buckets"] == [{"confidence": 89, "images": 2}, {"confidence": 90, "images": 1},
                               {"confidence": 95, "images": 1}]
    assert [(await at(t))["at_or_above"] for t in (0, 89.52, 89.53, 95, 95.01)] == [
        4, 4, 3, 1, 0]


@pytest.mark.asyncio
async def test_accuracy_comes_overall_and_per_camera_in_one_answer(world):
    for key, present in (("a", True), ("b", True), ("c", False), ("d", True)):
        world.reads.reviews[(key, "Person")] = present
    body = await accuracy.accuracy(world.reads, label="person", cameras=None, since=None,
                                   until=None, detector=None, threshold=90, step=50)
    assert body["reviewed"] == 4
    assert body["at_threshold"]["true_positives"] == 1
    assert body["at_threshold"]["false_negatives"] == 2  # b below the bar, d unlabelled
    assert [(c["camera"], c["reviewed"], c["at_threshold"]["false_negatives"])
            for c in body["per_camera"]] == [("back", 2, 1), ("front", 2, 1)]


@pytest.mark.asyncio
async def test_questions_on_the_verdicts_list_no_dates_yet_keep_the_window(world, monkeypatch):
    # An open window's dates are every date of the history, read from the graph: the
    # verdicts' questions anchor on the verdicts and use the window's bounds alone.
    async def every_date(since, until):
        raise AssertionError("the verdicts' questions list no dates")

    for key, present in (("a", True), ("b", True), ("c", False), ("e", True)):
        world.reads.reviews[(key, "Person")] = present
    monkeypatch.setattr(world.reads, "window_of", every_date)
    asked = {"label": "Person", "cameras": None, "until": None}
    body = await accuracy.accuracy(world.reads, **asked, since=NOW - timedelta(minutes=100),
                                   detector=None, threshold=90, step=50)
    assert body["reviewed"] == 3, "e, five hours old, is outside the window"
    compared = await accuracy.compare(world.reads, **asked, since=None, detectors=None,
                                      threshold=90, thresholds=(), step=50, target_recall=None)
    assert compared["reviewed"] == 4
    page = await accuracy.reviewed_images(world.reads, world.links, **asked, since=None,
                                          limit=10, cursor=None, query="q")
    assert [item["object_key"] for item in page["items"]] == ["a", "b", "c", "e"]


@pytest.mark.asyncio
async def test_the_review_queue_gives_unlabelled_first_then_least_confident_with_reasons(world):
    world.reads.reviews[("a", "Person")] = True
    items, cursor = [], None
    while True:
        page = await accuracy.review_queue(world.reads, world.links, label="Person",
                                           cameras=None, since=None, until=None, limit=2,
                                           cursor=cursor, threshold=90, thresholds=[],
                                           query="q")
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert [(item["object_key"], item["reason"], item["label_confidence"]) for item in items] \
        == [("c", "unlabelled", None), ("d", "unlabelled", None),
            ("b", "least confident", 40.0), ("e", "least confident", 95.0)]


async def sample_queue(world: FakeWorld, seed: int, limit: int) -> list[str]:
    keys, cursor = [], None
    while True:
        page = await accuracy.review_queue(world.reads, world.links, label="Person",
                                           cameras=None, since=None, until=None, limit=limit,
                                           cursor=cursor, threshold=90, thresholds=[],
                                           query="q", mode="sample", seed=seed)
        assert {item["reason"] for item in page["items"]} <= {"random sample"}
        keys += [item["object_key"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return keys


@pytest.mark.asyncio
async def test_the_random_sample_pages_every_image_in_its_seeds_order_until_sampled(world):
    world.reads.reviews[("a", "Person")] = True  # judged, but not by the sample: still in it
    keys = await sample_queue(world, seed=3, limit=2)
    assert sorted(keys) == ["a", "b", "c", "d", "e"]
    assert keys == await sample_queue(world, seed=3, limit=50)
    assert sorted(keys) == sorted(await sample_queue(world, seed=4, limit=2))
    await verdicts.record_verdict(world.reads, world.verdict_graph, world.store,
                                  object_key=keys[0], label="Person", present=True,
                                  reviewer="ann", sampled=True)
    assert await sample_queue(world, seed=3, limit=2) == keys[1:]


@pytest.mark.asyncio
async def test_a_verdict_on_an_image_the_sample_drew_stays_sampled(world):
    async def judge(sampled: bool) -> bool:
        recorded = await verdicts.record_verdict(
            world.reads, world.verdict_graph, world.store, object_key="b", label="Person",
            present=sampled, reviewer="ann", sampled=sampled)
        assert recorded is not None
        return recorded.sampled
    assert await judge(sampled=False) is False
    assert await judge(sampled=True) is True
    assert await judge(sampled=False) is True


@pytest.mark.asyncio
async def test_accuracy_estimates_recall_from_the_sample_alone_beside_all_reviews(world):
    for key, present in (("a", True), ("b", True), ("d", True)):
        world.reads.reviews[(key, "Person")] = present
    world.reads.sampled.add(("a", "Person"))
    body = await accuracy.accuracy(world.reads, label="Person", cameras=None, since=None,
                                   until=None, detector=None, threshold=90, step=50)
    sample, every = body["recall_estimates"]
    assert (sample["source"], sample["recall"]["successes"], sample["recall"]["count"]) == (
        "sample", 1, 1)
    assert (every["source"], every["recall"]["successes"], every["recall"]["count"]) == (
        "all", 1, 3)
    assert body["calibration"]["enough"] is False  # three verdicts fit nothing


@pytest.mark.asyncio
async def test_reviewed_images_come_newest_first_with_their_verdict_page_by_page(world):
    world.reads.reviews.update({("a", "Person"): True, ("c", "Person"): False,
                                ("e", "Person"): True, ("b", "Car"): False})
    items, cursor = [], None
    while True:
        page = await accuracy.reviewed_images(world.reads, world.links, label="person",
                                              cameras=None, since=None, until=None, limit=2,
                                              cursor=cursor, query="q")
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert [(item["object_key"], item["present"], item["label_confidence"])
            for item in items] == [("a", True, 99.0), ("c", False, None), ("e", True, 95.0)]
    page = await accuracy.reviewed_images(world.reads, world.links, label="Person",
                                          cameras=["back"], since=None, until=None, limit=5,
                                          cursor=None, query="q")
    assert [item["object_key"] for item in page["items"]] == ["c"]


@pytest.mark.asyncio
async def test_rollups_refuse_a_dimension_twice_and_a_confidence_without_a_label(world):
    asked = {"cameras": None, "since": None, "until": None, "detector": None}
    with pytest.raises(BadRequest, match="once"):
        await rollups.rollup(world.reads, by=["camera", "camera"], label=None,
                             min_confidence=None, **asked)
    with pytest.raises(BadRequest, match="needs a label"):
        await rollups.rollup(world.reads, by=["camera"], label=None, min_confidence=50,
                             **asked)
    body = await rollups.rollup(world.reads, by=["camera"], label="car", min_confidence=70,
                                **asked)
    assert body["rows"] == [{"camera": "back", "images": 1}]


@pytest.mark.asyncio
async def test_a_verdict_is_stored_before_it_is_projected_and_under_the_graphs_spelling(world):
    world.verdict_graph.fail_projection = True
    with pytest.raises(ConnectionError):
        await verdicts.record_verdict(world.reads, world.verdict_graph, world.store,
                                      object_key="d", label="person", present=True,
                                      reviewer="ann")
    [kept] = world.store.items.values()  # the table took it: the next start projects it
    assert (kept.label, kept.present, kept.reviewer) == ("Person", True, "ann")
    world.verdict_graph.fail_projection = False
    assert await verdicts.restore_verdicts(world.verdict_graph, world.store) == 1
    assert world.reads.reviews == {("d", "Person"): True}


@pytest.mark.asyncio
async def test_a_verdict_on_an_unknown_image_is_refused_and_nothing_is_stored(world):
    assert await verdicts.record_verdict(world.reads, world.verdict_graph, world.store,
                                         object_key="nowhere", label="Person", present=True,
                                         reviewer="ann") is None
    assert world.store.items == {} and world.verdict_graph.projected == []


@pytest.mark.asyncio
async def test_adopting_the_graphs_verdicts_never_overwrites_a_later_one(world):
    newer = StoredVerdict("a", "Person", True, "bob", "2026-12-02T10:00:00+00:00")
    await world.store.record(newer)
    world.verdict_graph.show(StoredVerdict("a", "Person", False, "old",
                                           "2020-01-01T00:00:00+00:00"))
    world.verdict_graph.show(StoredVerdict("b", "Person", False, "old",
                                           "2020-01-01T00:00:00+00:00"))
    assert await verdicts.adopt_graph_verdicts(world.verdict_graph, world.store) == 1
    assert {(v.object_key, v.reviewer) for v in world.store.items.values()} == {
        ("a", "bob"), ("b", "old")}


async def _undo_the_graph_misses(world: FakeWorld, *given: tuple[bool, str]) -> None:
    """Verdicts on image a's Person, the last undone while the graph is unreachable."""
    for present, reviewer in given:
        await verdicts.record_verdict(world.reads, world.verdict_graph, world.store,
                                      object_key="a", label="Person", present=present,
                                      reviewer=reviewer)
    [last] = world.store.items.values()
    world.verdict_graph.fail_projection = True
    with pytest.raises(ConnectionError):
        await verdicts.undo_verdict(world.verdict_graph, world.store, object_key="a",
                                    label="Person", reviewer=last.reviewer,
                                    reviewed_at=datetime.fromisoformat(last.reviewed_at))
    world.verdict_graph.fail_projection = False


@pytest.mark.asyncio
async def test_the_start_shows_the_previous_verdict_when_the_graph_missed_an_undo(world):
    await _undo_the_graph_misses(world, (True, "ann"), (False, "bob"))
    assert world.reads.reviews[("a", "Person")] is False  # still the undone one
    assert await verdicts.restore_verdicts(world.verdict_graph, world.store) == 1
    assert world.verdict_graph.shown == world.store.items
    assert world.reads.reviews == {("a", "Person"): True}


@pytest.mark.asyncio
async def test_the_start_drops_the_review_when_the_graph_missed_the_last_undo(world):
    await _undo_the_graph_misses(world, (True, "ann"))
    assert await verdicts.restore_verdicts(world.verdict_graph, world.store) == 1
    assert world.verdict_graph.shown == world.store.items == {}
    assert world.reads.reviews == {}


@pytest.mark.asyncio
async def test_the_start_adopts_what_only_the_graph_holds_and_projects_what_it_lacks(world):
    graph_only = StoredVerdict("b", "Person", False, "old", "2020-01-01T00:00:00+00:00")
    world.verdict_graph.show(graph_only)
    table_only = await world.store.record(
        StoredVerdict("c", "Car", True, "ann", "2026-12-01T10:00:00+00:00"))
    assert await verdicts.restore_verdicts(world.verdict_graph, world.store) == 2
    assert world.verdict_graph.shown == world.store.items == {
        ("b", "Person"): graph_only, ("c", "Car"): table_only}


@pytest.mark.asyncio
async def test_the_start_reads_and_writes_a_page_of_the_table_at_a_time(world, monkeypatch):
    monkeypatch.setattr(verdicts, "PROJECTION_BATCH", 2)
    for key in "abcde":
        await world.store.record(StoredVerdict(key, "Person", True, "ann", "2026-12-01"))
    batches: list[int] = []
    project = world.verdict_graph.project

    async def counted(given: list[StoredVerdict]) -> None:
        batches.append(len(given))
        await project(given)
    monkeypatch.setattr(world.verdict_graph, "project", counted)
    assert await verdicts.restore_verdicts(world.verdict_graph, world.store) == 5
    assert batches == [2, 2, 1] and world.verdict_graph.shown == world.store.items


@pytest.mark.asyncio
async def test_an_unknown_camera_is_refused_with_the_cameras_there_are(world):
    with pytest.raises(UnknownName, match="'fornt'") as refused:
        await search(world, cameras=["front", "fornt"])
    assert refused.value.body()["known"] == ["back", "front"]
    assert refused.value.body()["known_complete"] is True


@pytest.mark.asyncio
async def test_a_detector_that_labelled_nothing_is_refused_only_when_the_answer_is_empty(world):
    with pytest.raises(UnknownName, match="'aws-rekogniton'") as refused:
        await search(world, detector="aws-rekogniton")
    assert refused.value.body()["known"] == ["aws-rekognition"]
    # A known detector with nothing in scope is an empty answer, not a refusal.
    empty = await rollups.rollup(world.reads, by=["year"], cameras=None, label="Car",
                                 min_confidence=None, since=NOW + timedelta(days=1),
                                 until=None, detector="aws-rekognition")
    assert empty["rows"] == []


@pytest.mark.asyncio
async def test_a_label_no_image_carries_is_an_empty_answer_that_says_so(world):
    body = await labels.sightings(world.reads, label="Preson", since=None, until=None,
                                  cameras=None, min_confidence=0, detector=None)
    assert body["images"] == 0 and body["unknown_labels"] == ["Preson"]
    page = await search(world, labels=["person", "Dog"])
    assert page["items"] == [] and page["unknown_labels"] == ["Dog"]
    known = await labels.sightings(world.reads, label="person", since=None, until=None,
                                   cameras=None, min_confidence=0, detector=None)
    assert known["unknown_labels"] == [] and known["label"] == "Person"
