"""The graph-writer in process, through the real broker and graph (the session's stack)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from labelgraph_graph_writer.bootstrap import recount
from labelgraph_graph_writer.recount import Scope

pytestmark = pytest.mark.stack

ASYNCAPI = Path(__file__).resolve().parents[3] / "schemas" / "image-labels.asyncapi.json"
DEAD_LETTER_HEADERS = json.loads(ASYNCAPI.read_text())["components"]["messages"]["DeadLetter"][
    "headers"]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def test_a_known_event_set_gives_exact_nodes_edges_and_properties_and_replays_change_nothing(
        kit, writer_thread, helpers):
    front, back, person, plant = unique("front"), unique("back"), unique("Person"), unique("Plant")
    events = [helpers.make_event(front, 0, {person: 99.5, plant: 71.25}),
              helpers.make_event(front, 1, {plant: 80.0}),
              helpers.make_event(back, 2, {})]
    keys = [event.object_key for event in events]
    topic = kit.fresh_topic()
    kit.produce(topic, events)

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(3)
    first = kit.snapshot(keys)

    # Written out by hand from the model, for the first image.
    key0 = keys[0]
    ts0 = events[0].event_ts
    assert [image for image in first["images"] if image[0] == key0] == [
        (key0, front, ts0, "2016-11-05T07:15:30-08:00", ts0, "security-alarms",
         "2026-11-01T00:00:00+00:00")]
    assert sorted(link[1:] for link in first["links"] if link[0] == key0) == sorted(
        [("HAS_TIMESTAMP", "2016-11-05"), ("HAS_YEAR", 2016), ("HAS_MONTH", 11),
         ("HAS_DAY", 5), ("HAS_HOUR", 7)], key=repr)
    assert sorted((row[1], row[2], row[3]) for row in first["labels"] if row[0] == key0) == [
        (person, 99.5, "aws-rekognition"), (plant, 71.25, "aws-rekognition")]
    assert first == helpers.expected_graph(events)
    # Exactly one node per key: 2 cameras, 3 images, 2 labels, 3 label edges, 15 time edges.
    counts = kit.query("""
        MATCH (c:Camera) WHERE c.camera_name IN $cameras WITH count(c) AS cameras
        MATCH (i:Image) WHERE i.object_key IN $keys WITH cameras, count(i) AS images
        MATCH (l:Label) WHERE l.label_name IN $labels
        RETURN cameras, images, count(l) AS labels""",
        cameras=[front, back], keys=keys, labels=[person, plant])
    assert counts == [{"cameras": 2, "images": 3, "labels": 2}]
    assert (len(first["links"]), len(first["labels"])) == (15, 3)
    assert kit.query("MATCH (y:Year {year_value: 2016}) RETURN count(y) AS n") == [{"n": 1}]

    for _ in range(2):  # the whole topic again, twice, by new consumer groups
        with writer_thread(kit.settings(topic)) as writer:
            writer.process(3)
        assert kit.snapshot(keys) == first
        for camera in (front, back):  # and the tallies unchanged by the replays
            assert asyncio.run(recount(kit.settings(topic), Scope(camera))) == []
    assert kit.query("MATCH (l:Label) WHERE l.label_name IN $labels RETURN count(l) AS n",
                     labels=[person, plant]) == [{"n": 2}]


def test_shuffled_duplicated_and_out_of_order_events_leave_the_newest_labellings(
        kit, writer_thread, helpers):
    camera = unique("cam")
    names = [unique("L") for _ in range(6)]
    events = []
    for index in range(40):
        # Three labellings by one detector with shifting label sets, one by another.
        for minutes in (0, 5, 10):
            picked = {names[(index + minutes + step) % 6]: 50.0 + minutes + step
                      for step in range(3)}
            events.append(helpers.make_event(camera, index, picked, minutes=minutes,
                                             etag=f"e{minutes}"))
        events.append(helpers.make_event(camera, index, {names[0]: 42.0}, minutes=3,
                                         detector="other-detector"))
    events += events[::3]  # duplicates
    random.Random(7).shuffle(events)
    topic = kit.fresh_topic()
    kit.produce(topic, events)

    with writer_thread(kit.settings(topic, batch_size=17)) as writer:
        writer.process(len(events))

    expected = helpers.expected_graph(events)
    assert kit.snapshot(event.object_key for event in events) == expected
    # Labels the newest labelling no longer reports are gone: 3 + 1 edges an image.
    assert len(expected["labels"]) == 40 * 4


def test_poison_messages_go_to_the_dead_letter_topic_and_the_stream_goes_on(
        kit, writer_thread, helpers):
    camera = unique("cam")
    good = [helpers.make_event(camera, index, {unique("L"): 90.0}) for index in range(3)]
    not_json = b"{this is not json"
    not_contract = json.dumps({"schema_version": 1, "object_key": "k"}).encode()
    topic = kit.fresh_topic(partitions=1)
    kit.produce(topic, [good[0], (b"bad-1", not_json), good[1], (b"bad-2", not_contract),
                        (b"bad-3", None), good[2]])

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(6)

    assert kit.snapshot(event.object_key for event in good) == helpers.expected_graph(good)
    dead = sorted(kit.read_topic(f"{topic}.dlq", 3),
                  key=lambda record: int(dict(record.headers)["dlq-offset"]))
    assert [(record.key, record.value) for record in dead] == [
        (b"bad-1", not_json), (b"bad-2", not_contract), (b"bad-3", None)]
    headers = [dict(record.headers) for record in dead]
    assert [(h["dlq-topic"], h["dlq-partition"], h["dlq-offset"]) for h in headers] == [
        (topic.encode(), b"0", b"1"), (topic.encode(), b"0", b"3"), (topic.encode(), b"0", b"4")]
    assert b"json" in headers[0]["dlq-reason"].lower()
    assert b"event_id" in headers[1]["dlq-reason"]
    assert b"tombstone" in headers[2]["dlq-reason"]
    # Each dead letter is what the AsyncAPI document promises on the dead-letter channel.
    promised = Draft202012Validator(DEAD_LETTER_HEADERS)
    for header in headers:
        promised.validate({name: value.decode() for name, value in header.items()})


def test_names_with_quotes_backslashes_braces_and_keywords_are_stored_literally(
        kit, writer_thread, helpers):
    tag = uuid.uuid4().hex[:6]
    names = [f"O'Brien \"quoted\" {tag}", f"back\\slash\\n {tag}", f"{{braces}} $param {tag}",
             f"MATCH (n) DETACH DELETE n // {tag}", f"`tick` ') RETURN 1 {tag}"]
    camera = f"cam'\"{{}}\\{tag}"
    event = helpers.make_event(camera, 0, {name: 60.0 for name in names},
                               key=f"alarms/{camera}/x'}}{{/MERGE (n) {tag}.jpg")
    topic = kit.fresh_topic()
    kit.produce(topic, [event])

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(1)

    assert kit.snapshot([event.object_key]) == helpers.expected_graph([event])
    stored = kit.query("UNWIND $names AS name MATCH (l:Label {label_name: name}) "
                       "RETURN l.label_name AS name", names=names)
    assert sorted(row["name"] for row in stored) == sorted(names)


def test_excluded_cameras_are_not_written(kit, writer_thread, helpers):
    kept, excluded = unique("kept"), unique("skip")
    events = [helpers.make_event(kept, 0, {unique("L"): 88.0}),
              helpers.make_event(excluded, 1, {unique("L"): 88.0})]
    topic = kit.fresh_topic()
    kit.produce(topic, events)

    settings = kit.settings(topic, excluded_cameras=f"other, {excluded}")
    with writer_thread(settings) as writer:
        writer.process(2)

    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(
        events, excluded=frozenset({excluded}))
    assert kit.query("MATCH (c:Camera {camera_name: $name}) RETURN count(c) AS n",
                     name=excluded) == [{"n": 0}]


def test_the_graph_stopped_and_restarted_mid_stream_loses_nothing(
        stack, kit, writer_thread, helpers):
    camera = unique("cam")
    events = [helpers.make_event(camera, index, {unique("L"): 75.0, "Plant": 60.0})
              for index in range(200)]
    topic = kit.fresh_topic()
    kit.produce(topic, events[:100])

    with writer_thread(kit.settings(topic, batch_size=20)) as writer:
        writer.process(100)
        retries_before = _metric(writer.ops_url, "graph_writer_retries_total")
        stack.stop_graph()
        try:
            kit.produce(topic, events[100:])
            helpers.wait_for(lambda: _metric(writer.ops_url, "graph_writer_retries_total")
                             > retries_before, timeout=30)
            ready = httpx.get(f"{writer.ops_url}/ready", timeout=10)
            assert ready.status_code == 503
        finally:
            stack.start_graph()
        writer.process(200, timeout=90)
        helpers.wait_for(lambda: _ready(writer.ops_url), timeout=10)
        assert _metric(writer.ops_url, "graph_writer_batches_total") > 0

    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(events)


def _metric(ops_url: str, name: str) -> float:
    """The metric summed over its labels."""
    values = [float(line.split()[-1])
              for line in httpx.get(f"{ops_url}/metrics", timeout=10).text.splitlines()
              if line.startswith((name + " ", name + "{"))]
    assert values, f"{name} not exported"
    return sum(values)


def _ready(ops_url: str) -> bool:
    return httpx.get(f"{ops_url}/ready", timeout=10).status_code == 200


def test_an_event_the_graph_rejects_is_dead_lettered_and_the_partition_goes_on(
        private_kit, writer_thread, helpers):
    kit = private_kit
    camera = unique("cam")
    good = [helpers.make_event(camera, index, {unique("L"): 80.0}) for index in range(30)]
    # Deterministic with one writer: the poison's capture time is held by another image
    # under a unique constraint of this graph's own, so writing it is a ConstraintError.
    poison = helpers.make_event(camera, 100, {unique("L"): 80.0})
    kit.query("CREATE CONSTRAINT test_isodate IF NOT EXISTS "
              "FOR (n:Image) REQUIRE n.isodate IS UNIQUE")
    kit.query("CREATE (:Image {object_key: $key, isodate: $isodate})",
              key=unique("squatter"), isodate=poison.captured_at.isoformat())
    # A key far beyond S3's 1,024 bytes: the graph cannot commit it (or the contract
    # refuses it first): raw bytes, so the model that may refuse it is not in the way.
    huge = helpers.make_event(camera, 101, {}).model_dump(mode="json")
    huge["object_key"] = f"alarms/{camera}/" + "x" * 300_000
    huge_message = (huge["object_key"].encode(), json.dumps(huge).encode())
    topic = kit.fresh_topic(partitions=1)
    kit.produce(topic, [*good[:10], poison, *good[10:20], huge_message, *good[20:]])

    with writer_thread(kit.settings(topic, batch_size=8)) as writer:
        dead_before = _metric(writer.ops_url, "graph_writer_dead_letters_total")
        writer.process(32)
        assert _metric(writer.ops_url, "graph_writer_dead_letters_total") == dead_before + 2

    assert kit.snapshot(event.object_key for event in good) == helpers.expected_graph(good)
    assert kit.query("MATCH (i:Image) WHERE i.object_key IN $keys RETURN count(i) AS n",
                     keys=[poison.object_key, huge["object_key"]]) == [{"n": 0}]
    dead = sorted(kit.read_topic(f"{topic}.dlq", 2),
                  key=lambda record: int(dict(record.headers)["dlq-offset"]))
    headers = [dict(record.headers) for record in dead]
    assert [(h["dlq-topic"], h["dlq-partition"], h["dlq-offset"]) for h in headers] == [
        (topic.encode(), b"0", b"10"), (topic.encode(), b"0", b"21")]
    assert dead[0].value == kit_value(poison) and dead[1].key == huge_message[0]
    assert headers[0]["dlq-reason"].startswith(b"the graph rejected the event: ConstraintError")
    assert headers[1]["dlq-reason"]


def kit_value(event) -> bytes:
    from labelgraph_contract import encode_event
    return encode_event(event).value


def test_a_message_keyed_otherwise_than_its_object_key_is_dead_lettered(
        kit, writer_thread, helpers):
    camera = unique("cam")
    events = [helpers.make_event(camera, index, {unique("L"): 70.0}) for index in range(4)]
    wrong_key = (events[1].object_key.encode() + b"-not", kit_value(events[1]))
    no_key = (None, kit_value(events[2]))
    topic = kit.fresh_topic(partitions=1)
    kit.produce(topic, [events[0], wrong_key, no_key, events[3]])

    with writer_thread(kit.settings(topic)) as writer:
        writer.process(4)

    kept = [events[0], events[3]]
    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(kept)
    dead = sorted(kit.read_topic(f"{topic}.dlq", 2),
                  key=lambda record: int(dict(record.headers)["dlq-offset"]))
    assert [(record.key, dict(record.headers)["dlq-reason"]) for record in dead] == [
        (wrong_key[0], b"message key is not the event's object_key"),
        (None, b"message has no key: it must be the event's object_key")]


def test_clean_graph_restarts_during_writes_are_waited_out_and_lose_nothing(
        stack, kit, writer_thread, helpers):
    camera = unique("cam")
    events = [helpers.make_event(camera, index, {unique("L"): 75.0, "Plant": 60.0})
              for index in range(1500)]
    topic = kit.fresh_topic()
    kit.produce(topic, events)

    with writer_thread(kit.settings(topic, batch_size=200)) as writer:
        dead_before = _metric(writer.ops_url, "graph_writer_dead_letters_total")
        for threshold in (300, 700):
            writer.process(threshold)  # batches of 200 are in flight: restart under them
            # SIGTERM: ArcadeDB shuts down cleanly, answering the open transaction with
            # AuthError ("credentials no longer valid") or a DatabaseError.
            stack.restart_graph()
        writer.process(len(events), timeout=120)
        assert _metric(writer.ops_url, "graph_writer_dead_letters_total") == dead_before

    assert kit.snapshot(event.object_key for event in events) == helpers.expected_graph(events)
