"""LocalStack keeps no state: when the upload queue vanishes the labeler says so once,
naming it and what to do, is not ready meanwhile, and resumes once it exists again
(issue 13). Through moto, with the labeler's own SQS adapter and worker loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from labelgraph_devstack.polling import wait_until
from labelgraph_labeler.adapters.sqs import QueueMissing
from labelgraph_labeler.bootstrap import build_queue
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.worker import WorkerHealth, WorkerPolicy, run_worker

QUEUE = "uploads-deploy-test"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in {"AWS_ENDPOINT_URL": f"http://{host}:{port}",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "IMAGE_QUEUE_NAME": QUEUE,
                        "LABELER_POLL_WAIT_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("sqs")
    client.create_queue(QueueName=QUEUE)
    yield client
    server.stop()


class AnsweringBroker:
    """The broker check only: this test is about the queue."""

    async def check(self) -> str | None:
        return None


def queue_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if getattr(record, "check", None) == "queue"
            or "upload queue" in record.getMessage()]


FAILED_POLLS = 5  # enough for a line per failure to show, were one logged


def counting_failed_polls(queue: Any) -> list[int]:
    """Wrap the queue's receive so the test can wait for failed polls instead of sleeping."""
    failed = [0]
    receive = queue.receive

    def counted(max_messages: int) -> Any:
        try:
            return receive(max_messages)
        except Exception:
            failed[0] += 1
            raise
    queue.receive = counted
    return failed


async def outage_and_recovery(sqs: Any, health: WorkerHealth) -> tuple[str, str | None]:
    queue = await asyncio.to_thread(build_queue, LabelerSettings())
    failed = counting_failed_polls(queue)
    stop = asyncio.Event()
    labeler: Any = SimpleNamespace(publisher=AnsweringBroker(), detectors=())
    worker = asyncio.create_task(run_worker(
        labeler, queue, stop, health, WorkerPolicy(2, 5, 0.01, 0.05)))
    try:
        await wait_until(lambda: _is(health, None), timeout=30, interval=0.05)
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        sqs.delete_queue(QueueUrl=url)                  # LocalStack restarted
        await wait_until(lambda: _is(health, "does not exist"), timeout=30, interval=0.05)
        failed[0] = 0
        await wait_until(lambda: failed[0] >= FAILED_POLLS, timeout=30)  # many failed polls
        during = await health.ready() or ""
        sqs.create_queue(QueueName=QUEUE)               # make up: provision again
        await wait_until(lambda: _is(health, None), timeout=30, interval=0.05)
        return during, await health.ready()
    finally:
        stop.set()
        await worker


async def _is(health: WorkerHealth, expected: str | None) -> bool:
    problem = await health.ready()
    return problem is None if expected is None else bool(problem and expected in problem)


def test_a_vanished_queue_is_named_once_with_the_fix_and_the_labeler_recovers(sqs, caplog):
    caplog.set_level(logging.INFO, logger="labelgraph_labeler")
    during, after = asyncio.run(outage_and_recovery(sqs, WorkerHealth()))
    assert f"the upload queue {QUEUE!r} does not exist" in during
    assert "run `make up` or provision again" in during
    assert after is None
    missing = [line for line in queue_lines(caplog) if "does not exist" in line]
    assert len(missing) == 1, queue_lines(caplog)
    assert missing[0].startswith("not ready: cannot poll the upload queue: the upload queue")
    assert any(line == "ready again: the queue answers" for line in queue_lines(caplog))


def test_a_queue_missing_at_start_is_named_with_the_fix(sqs):
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"])
    with pytest.raises(QueueMissing, match="provision again"):
        build_queue(LabelerSettings())
