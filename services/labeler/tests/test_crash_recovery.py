"""The labeler as a real process killed mid-stream, and Kafka lost mid-write: nothing lost."""

from __future__ import annotations

import os
import signal
from collections import defaultdict

import httpx
import pytest

from labelgraph_devstack.ports import free_port
from labelgraph_devstack.probes import http_status
from labelgraph_devstack.services import ServiceProcesses

pytestmark = pytest.mark.stack


def test_a_labeler_killed_mid_stream_and_restarted_labels_every_image_once(lane, tmp_path):
    images = 200
    lane.teach({"match": {"key_glob": "*"},
                "labels": [lane.label("Plant", 88.5, ("Nature",)), lane.label("Person", 97)]})
    ops_port = free_port()
    extra = {**lane.env, "LABELER_OPS_PORT": str(ops_port), "LABELER_CONCURRENCY": "4"}
    services = ServiceProcesses(lane.env, tmp_path / "logs", extra_env=extra)
    try:
        keys = [lane.key(name=f"img{index:03d}") for index in range(images)]
        for key in keys:  # all queued first, so the kill surely lands mid-stream
            lane.put(key)
        services.start(names=("labeler",))
        ops = f"http://127.0.0.1:{ops_port}"
        lane.wait_for(lambda: http_status(f"{ops}/ready") == 200)
        lane.wait_for(lambda: _labelled_count(ops) >= 10, interval=0.02)
        os.kill(services.processes["labeler"].pid, signal.SIGKILL)
        services.processes["labeler"].reap(10)
        assert lane.queue_depth() > 0, "every image was done before the kill"

        services.start(names=("labeler",))  # the same command again, as a supervisor would
        lane.wait_for(lambda: lane.queue_depth() == 0, timeout=90)
        assert _labelled_count(ops) > 0
        # SIGTERM: a clean stop (exit 0, after its last log line), unlike the kill above.
        restarted = services.processes["labeler"]
        restarted.terminate()
        restarted.reap(15)
        assert restarted.exit_code() == 0
        assert '"stopped"' in (tmp_path / "logs" / "labeler.log").read_text()
    finally:
        services.__exit__(None, None, None)

    rows = defaultdict(list)
    for row in lane.all_rows():
        rows[row["object_key"]].append(row)
    assert set(rows) == set(keys)
    # Exactly once in the table: each image has its two labels, all from one labelling.
    for key in keys:
        assert sorted(row["label"] for row in rows[key]) == ["Person", "Plant"]
        assert len({row["event_id"] for row in rows[key]}) == 1
    events = lane.events(lambda got: {e.object_key for e in got} >= set(keys), timeout=60)
    published = defaultdict(set)
    for event in events:
        published[event.object_key].add(event.event_id)
    # At least once on the topic, always with the event_id the table holds.
    assert {key: published[key] for key in keys} == {
        key: {rows[key][0]["event_id"]} for key in keys}
    assert lane.dead_letters() == []


def test_a_publish_failing_after_the_write_is_retried_until_the_topic_agrees(
        lane, in_process, tmp_path):
    port = free_port()
    start_broker = lane.broker_starter(port, tmp_path)

    kafka = start_broker()
    key, first = lane.key(), lane.key()
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Fox", 66.6)]})
    retried = lane.metric("labeler_images_retried_total")
    try:
        # Checks far apart: the labeler learns of the loss from the publish itself.
        with in_process(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}",
                        LABELER_PUBLISH_TIMEOUT_SECONDS=1, LABELER_BROKER_CHECK_SECONDS=60):
            lane.put(first)  # labelled: the labeler has checked the broker and publishes
            lane.wait_for(lambda: lane.rows(first) and lane.queue_depth() == 0)
            kafka.kill()
            kafka.wait()
            lane.put(key)
            [row] = lane.wait_for(lambda: lane.rows(key))
            # The rows are written, the publish failed: the message stays to be redone.
            lane.wait_for(lambda: lane.metric("labeler_images_retried_total") > retried)
            assert lane.queue_depth() == 1
            kafka = start_broker()  # an empty broker on the same port
            lane.wait_for(lambda: lane.queue_depth() == 0, timeout=30)
        events = lane.events(lambda got: len(got) >= 1, topic=lane.topic,
                             bootstrap=f"127.0.0.1:{port}")
    finally:
        kafka.kill()
        kafka.wait()
    # The first image's event went with the old broker (memory only); this one is re-sent.
    assert {event.event_id for event in events} == {row["event_id"]}
    assert [row["label"] for row in lane.rows(key)] == ["Fox"]


def _labelled_count(ops: str) -> float:
    """The labeler's own count, from its /metrics (cheaper than scanning the table)."""
    try:
        text = httpx.get(f"{ops}/metrics", timeout=2).text
    except httpx.TransportError:
        return 0
    return next((float(line.split()[1]) for line in text.splitlines()
                 if line.startswith('labeler_images_labeled_total{detector="aws-rekognition"} ')),
                0)
