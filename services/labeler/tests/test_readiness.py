"""/ready tells the truth about the Kafka broker (a real broker stopped and started again)
and the label tables (one deleted and made again)."""

from __future__ import annotations

import time

import httpx
import pytest

from labelgraph_devstack.ports import free_port
from labelgraph_devstack.probes import http_status
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_provision.dynamodb import ensure_label_table

pytestmark = pytest.mark.stack

CHECK_SECONDS = 0.5
# A check every CHECK_SECONDS, each bounded by CHECK_SECONDS: the truth is never older.
BOUND = 2 * CHECK_SECONDS + 1


def test_ready_follows_the_broker_and_uploads_wait_for_it_unspent(lane, tmp_path):
    port, ops_port = free_port(), free_port()
    start_broker = lane.broker_starter(port, tmp_path)

    kafka = start_broker()
    key = lane.key()
    lane.teach({"match": {"key": key}, "labels": [lane.label("Owl", 81)]})
    extra = {**lane.env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
             "LABELER_OPS_PORT": str(ops_port),
             "LABELER_BROKER_CHECK_SECONDS": str(CHECK_SECONDS)}
    services = ServiceProcesses(lane.env, tmp_path / "logs", extra_env=extra)
    ready = f"http://127.0.0.1:{ops_port}/ready"
    try:
        services.start(names=("labeler",))
        lane.wait_for(lambda: http_status(ready) == 200, timeout=30)

        kafka.kill()
        kafka.wait()
        lane.wait_for(lambda: http_status(ready) == 503, timeout=BOUND, interval=0.05)
        assert "Kafka" in httpx.get(ready, timeout=2).text
        # While the broker is away the labeler takes no upload: none spends its receives
        # (3 here) on publishes bound to fail, so none reaches the dead-letter queue.
        lane.put(key)
        time.sleep(4)  # an absence: nothing to poll for, so a span of several checks
        assert lane.stub_calls(key) == 0 and lane.queue_depth() == 1
        assert http_status(ready) == 503

        # An empty broker on the same port: it answers, but without the topic, which no
        # client may create (a broker would give it its own partitions and settings).
        kafka = start_broker(provisioned=False)
        lane.wait_for(lambda: "does not know topic" in httpx.get(ready, timeout=2).text,
                      timeout=BOUND, interval=0.05)
        assert http_status(ready) == 503 and lane.queue_depth() == 1
        lane.create_topic(port)  # provisioning runs
        back = time.monotonic()
        lane.wait_for(lambda: http_status(ready) == 200, timeout=BOUND, interval=0.05)
        assert time.monotonic() - back < BOUND
        lane.wait_for(lambda: lane.queue_depth() == 0, timeout=30)
        assert lane.dead_letters() == [] and lane.stub_calls(key) == 1
        events = lane.events(lambda got: len(got) >= 1, topic=lane.topic,
                             bootstrap=f"127.0.0.1:{port}")
        assert [event.object_key for event in events] == [key]
    finally:
        services.__exit__(None, None, None)
        kafka.kill()
        kafka.wait()
    # Backed-off checks, but one log line per change of state, not one per check.
    log = (tmp_path / "logs" / "labeler.log").read_text()
    down = [line for line in log.splitlines() if "not ready" in line and "Kafka" in line]
    assert 1 <= len(down) <= 2, down


def test_a_deleted_label_table_makes_the_labeler_unready_with_one_line_not_a_traceback(
        lane, tmp_path):
    ops_port = free_port()
    key = lane.key()
    lane.teach({"match": {"key": key}, "labels": [lane.label("Owl", 81)]})
    extra = {"LABELER_OPS_PORT": str(ops_port), "LABELER_BROKER_CHECK_SECONDS": "0.5"}
    ready = f"http://127.0.0.1:{ops_port}/ready"
    dynamodb = lane.client("dynamodb")
    services = ServiceProcesses(lane.env, tmp_path / "logs", extra_env=extra)
    try:
        services.start(names=("labeler",))
        lane.wait_for(lambda: http_status(ready) == 200, timeout=30)

        dynamodb.delete_table(TableName=lane.table)
        lane.wait_for(lambda: http_status(ready) == 503, timeout=10, interval=0.1)
        assert f"the label table {lane.table} does not exist" in httpx.get(ready).text
        lane.put(key)
        time.sleep(3)  # an absence: the upload waits on the queue, unspent
        assert lane.stub_calls(key) == 0 and lane.dead_letters() == []

        ensure_label_table(dynamodb, lane.table)
        lane.wait_for(lambda: http_status(ready) == 200, timeout=10, interval=0.1)
        lane.wait_for(lambda: [row["label"] for row in lane.rows(key)] == ["Owl"], timeout=30)
    finally:
        services.close()
    log = (tmp_path / "logs" / "labeler.log").read_text()
    assert "Traceback" not in log
    assert f"not ready: the label table {lane.table} does not exist" in log
