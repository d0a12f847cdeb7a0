"""A real model through every real server: photographs uploaded to S3, labelled by the
Rekognition stub and by the SSD MobileNet beside it, each detector's rows in its own table,
its own event per image, its own edges in the graph and its own accuracy; a replay of the
topic and a relabel with both detectors leave the graph exactly what the events say."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from neo4j import GraphDatabase

from labelgraph_contract import ImageLabeled, decode_event, encode_event, label_table_name
from labelgraph_demo.loading import provision_detectors, teach_stub, upload
from labelgraph_demo.samples import PHOTOS, Sample, object_key, photo_truth
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, produce, read_until_quiet

pytestmark = pytest.mark.stack

SSD, STUB = "ssd-mobilenet-v2-coco", "aws-rekognition"
PHOTOGRAPHS = ("astronaut.jpg", "chelsea.jpg", "street-044.jpg", "empty-street-01.jpg")
Edge = tuple[str, str, str]  # object key, detector, label


@dataclass
class Lane:
    env: dict[str, str]
    api: httpx.Client
    samples: dict[str, Sample]  # by photograph

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.samples.values()]


@pytest.fixture(scope="module")
def lane(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    """The four photographs under a fresh camera, labelled by the stub and the SSD."""
    camera = f"real{uuid.uuid4().hex[:6]}"
    began, truth = datetime(2026, 11, 20, 9, tzinfo=UTC), photo_truth()
    samples = {}
    for minute, name in enumerate(PHOTOGRAPHS):
        captured = began + timedelta(minutes=minute)
        samples[name] = Sample(object_key(camera, captured), camera, captured, PHOTOS / name,
                               truth[name], _stub_person(name == "astronaut.jpg"))
    env = {**stack.env, "LABELER_DETECTORS": f"{STUB},{SSD}"}
    provision_detectors(env)
    logs = tmp_path_factory.mktemp("real-detectors")
    with ServiceProcesses(env, logs, extra_env={"API_INSECURE_NO_AUTH": "true"}) as services:
        teach_stub(env["REKOGNITION_STUB_URL"], list(samples.values()))
        upload(env, list(samples.values()))
        fresh = Lane(env, httpx.Client(base_url=services.api_url, timeout=30), samples)
        wait_for(lambda: len(_latest(events_of(env, fresh.keys))) == 2 * len(samples),
                 timeout=180, interval=1)
        wait_for(lambda: graph_edges(env, fresh.keys) == _oracle(events_of(env, fresh.keys)),
                 interval=1)
        yield fresh


def test_a_photograph_ends_as_a_person_edge_of_the_real_model_and_in_its_accuracy(lane):
    astronaut = lane.samples["astronaut.jpg"].key
    edges = graph_edges(lane.env, [astronaut])
    assert edges[(astronaut, SSD, "Person")] > 50

    _record_verdicts(lane, ["astronaut.jpg"])
    result = lane.api.get("/accuracy/detectors", params={
        "camera": lane.samples["astronaut.jpg"].camera, "detector": SSD,
        "threshold": 50}).json()
    [ssd] = result["detectors"]
    assert ssd["detector"] == SSD
    assert ssd["at_threshold"]["true_positives"] == 1


def test_two_detectors_stay_apart_through_replay_and_relabel(lane):
    events = events_of(lane.env, lane.keys)
    assert sorted((e.object_key, e.detector) for e in events) == sorted(
        (key, detector) for key in lane.keys for detector in (STUB, SSD))
    _assert_rows_match(lane, _latest(events))
    # The SSD's weak Person answers (7.4 on the cat, 24.8 on the empty street) stay below 50.
    ssd_people = {e.object_key for e in events if e.detector == SSD
                  and any(label.name == "Person" and label.confidence >= 50
                          for label in e.labels)}
    assert ssd_people == {lane.samples[p].key for p in ("astronaut.jpg", "street-044.jpg")}

    _record_verdicts(lane, list(PHOTOGRAPHS))
    assert _accuracy(lane) == {STUB: (1, 0, 1, 2), SSD: (2, 0, 0, 2)}

    # A replay: every event again, as after a consumer reset.
    asyncio.run(_publish_again(lane.env, events))
    # A relabel with changed stub answers: its Person moves from the astronaut to the street.
    changed = {**lane.samples,
               "astronaut.jpg": _with_labels(lane.samples["astronaut.jpg"], []),
               "street-044.jpg": _with_labels(lane.samples["street-044.jpg"],
                                              _stub_person(True))}
    teach_stub(lane.env["REKOGNITION_STUB_URL"], list(changed.values()))
    camera = lane.samples["astronaut.jpg"].camera
    subprocess.run([sys.executable, "-m", "labelgraph_labeler", "relabel",
                    f"s3://{lane.env['IMAGE_BUCKET']}/alarms/{camera}/"],
                   env={**os.environ, **lane.env}, check=True, timeout=180, capture_output=True)

    everything = wait_for(lambda: _all_after_relabel(lane.env, lane.keys), interval=1)
    newest = _latest(everything)
    wait_for(lambda: graph_edges(lane.env, lane.keys) == _oracle(everything), interval=1)
    assert {k for (k, d, label) in _oracle(everything) if d == STUB and label == "Person"} == {
        lane.samples["street-044.jpg"].key}
    _assert_rows_match(lane, newest)
    assert _accuracy(lane) == {STUB: (1, 0, 1, 2), SSD: (2, 0, 0, 2)}


def events_of(env: dict[str, str], keys: list[str]) -> list[ImageLabeled]:
    """Every event on the topic for these keys, in topic order."""
    return asyncio.run(_read_topic(env, set(keys)))


async def _read_topic(env: dict[str, str], keys: set[str]) -> list[ImageLabeled]:
    records = await read_until_quiet(env["KAFKA_BOOTSTRAP_SERVERS"], env["LABEL_TOPIC"])
    return [decode_event(r.value) for r in records
            if r.key is not None and r.key.decode() in keys]


async def _publish_again(env: dict[str, str], events: list[ImageLabeled]) -> None:
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LABEL_TOPIC"], map(encode_event, events))


def _all_after_relabel(env: dict[str, str], keys: list[str]) -> list[ImageLabeled] | None:
    """The topic's events once it holds the replay and a relabelling by each detector."""
    events = events_of(env, keys)
    return events if len(events) >= 6 * len(keys) else None


def _latest(events: list[ImageLabeled]) -> dict[tuple[str, str], ImageLabeled]:
    """Each image's newest labelling per detector: the graph-writer's rule."""
    newest: dict[tuple[str, str], ImageLabeled] = {}
    for event in events:
        held = newest.get((event.object_key, event.detector))
        if held is None or (event.labeled_at, event.event_id) > (held.labeled_at,
                                                                 held.event_id):
            newest[(event.object_key, event.detector)] = event
    return newest


def _oracle(events: list[ImageLabeled]) -> dict[Edge, float]:
    """The edges the graph must hold: the newest labelling's labels, per detector."""
    return {(key, detector, label.name): round(label.confidence, 3)
            for (key, detector), event in _latest(events).items() for label in event.labels}


def graph_edges(env: dict[str, str], keys: list[str]) -> dict[Edge, float]:
    with GraphDatabase.driver(env["NEO4J_URI"],
                              auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (i:Image)-[r:HAS_LABEL]->(l:Label) WHERE i.object_key IN $keys "
            "RETURN i.object_key AS key, r.detector AS detector, l.label_name AS label, "
            "r.confidence AS confidence", keys=keys, database_=env["NEO4J_DATABASE"])
    return {(r["key"], r["detector"], r["label"]): round(r["confidence"], 3) for r in records}


def _assert_rows_match(lane: Lane, newest: dict[tuple[str, str], ImageLabeled]) -> None:
    """Each detector's table holds exactly its newest labelling: its labels (or the
    zero-label marker, the one row without a confidence) and no other detector's rows."""
    dynamodb = aws_client(lane.env, "dynamodb")
    for (key, detector), event in newest.items():
        rows = dynamodb.query(
            TableName=label_table_name(lane.env["LABEL_TABLE"], detector),
            KeyConditionExpression="object_key = :key",
            ExpressionAttributeValues={":key": {"S": key}}, ConsistentRead=True)["Items"]
        assert {(r["detector"]["S"], r["event_id"]["S"]) for r in rows} == {
            (detector, event.event_id)}, (key, detector)
        labels = [r for r in rows if "confidence" in r]
        assert len(rows) == max(len(labels), 1)
        assert sorted((r["label"]["S"], round(float(r["confidence"]["N"]), 3))
                      for r in labels) == sorted(
            (label.name, round(label.confidence, 3)) for label in event.labels), (key, detector)


def _record_verdicts(lane: Lane, photographs: list[str]) -> None:
    for name in photographs:
        sample = lane.samples[name]
        lane.api.put("/verdicts", json={"object_key": sample.key, "label": "Person",
                                        "present": sample.has_person, "reviewer": "truth"}
                     ).raise_for_status()


def _accuracy(lane: Lane) -> dict[str, tuple[int, int, int, int]]:
    """TP, FP, FN, TN per detector at 50 on this lane's camera."""
    result = lane.api.get("/accuracy/detectors", params={
        "camera": lane.samples["astronaut.jpg"].camera, "threshold": 50}).json()
    assert result["compared"] == len(lane.samples)
    return {d["detector"]: tuple(d["at_threshold"][k] for k in (
        "true_positives", "false_positives", "false_negatives", "true_negatives"))
        for d in result["detectors"]}


def _stub_person(says_person: bool) -> list[dict[str, Any]]:
    return [{"Name": "Person", "Confidence": 98.5, "Parents": []}] if says_person else []


def _with_labels(sample: Sample, labels: list[dict[str, Any]]) -> Sample:
    return Sample(sample.key, sample.camera, sample.captured_at, sample.photo,
                  sample.has_person, labels)
