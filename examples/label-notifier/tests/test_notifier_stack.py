"""The notifier as a real process on the embedded broker, notifying a real local HTTP server
(its webhook, and apprise's json:// target): one notification per labelling per target,
across restarts, re-published duplicates and offsets reset to the beginning."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from labelgraph_contract import ImageLabeled, encode_event
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.testing import create_topics, labelled_event, produce

pytestmark = pytest.mark.stack

CAMERA, LABEL = "frontdoor", "Person"
IMAGE_BYTES = b"\xff\xd8\xff\xe0 a still of the front door"


class Receiver:
    """A local HTTP server that keeps every POST: (path, headers, JSON body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def webhook_ids(self) -> list[str]:
        return sorted(body["event_id"] for path, _, body in self.posts if path == "/hook")

    def apprise_keys(self, keys: list[str]) -> list[str]:
        messages = [body["message"] for path, _, body in self.posts if path == "/apprise"]
        return sorted(key for message in messages for key in keys if key in message)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()


@contextmanager
def notifier_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m labelgraph_notifier` until the block ends, then SIGTERM: it must exit 0."""
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "labelgraph_notifier"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()[-2000:]


def sighting_at_the_door(confidence: float = 97.0, camera: str = CAMERA) -> ImageLabeled:
    key = f"alarms/{camera}/{uuid.uuid4().hex[:10]}.jpg"
    return labelled_event(key, {LABEL: confidence, "Door": 99.0}, camera=camera)


def reset_offsets(bootstrap: str, topic: str, group: str) -> None:
    """What `kafka-consumer-groups --reset-offsets --to-earliest` does, for the one partition."""
    async def commit_zero() -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                    enable_auto_commit=False)
        await consumer.start()
        try:
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            await consumer.commit({partition: 0})
            assert await consumer.committed(partition) == 0
        finally:
            await consumer.stop()
    asyncio.run(commit_zero())


def test_one_notification_per_labelling_across_restarts_replays_and_reset_offsets(
        stack_env, receiver, tmp_path):
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    topic, group = f"labels-{uuid.uuid4().hex[:8]}", f"notifier-{uuid.uuid4().hex[:8]}"
    # One partition: a record published last is handled last, so a sentinel's notification
    # proves that everything before it was handled.
    asyncio.run(create_topics(bootstrap, [topic], partitions=1))
    wanted = [sighting_at_the_door(97.0), sighting_at_the_door(90.0)]  # 90: the threshold
    unwanted = [sighting_at_the_door(89.9), sighting_at_the_door(99.0, camera="backyard"),
                labelled_event(f"alarms/{CAMERA}/dog.jpg", {"Dog": 99.0}, camera=CAMERA)]
    s3 = boto3.client("s3")
    bucket = wanted[0].bucket
    if bucket not in {found["Name"] for found in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=wanted[0].object_key, Body=IMAGE_BYTES)

    env = {**os.environ, **stack_env, "LABEL_TOPIC": topic, "NOTIFIER_GROUP": group,
           "NOTIFIER_CAMERA": CAMERA, "NOTIFIER_LABEL": LABEL, "NOTIFIER_THRESHOLD": "90",
           "NOTIFIER_WEBHOOK_URL": f"http://127.0.0.1:{receiver.port}/hook",
           "NOTIFIER_APPRISE_URLS": f"json://127.0.0.1:{receiver.port}/apprise",
           "NOTIFIER_STATE_FILE": str(tmp_path / "notified.sqlite3"),
           "NOTIFIER_SESSION_TIMEOUT_MS": "2000", "NOTIFIER_HEARTBEAT_INTERVAL_MS": "500"}
    sent: list[ImageLabeled] = []

    def publish(*events: ImageLabeled) -> None:
        asyncio.run(produce(bootstrap, topic, [encode_event(e) for e in events]))

    def notified_exactly_once_for(expected: list[ImageLabeled]) -> None:
        keys = [event.object_key for event in expected]
        wait_for(lambda: len(receiver.posts) >= 2 * len(expected), timeout=60,
                 what=f"{2 * len(expected)} notifications")
        assert receiver.webhook_ids() == sorted(event.event_id for event in expected)
        assert receiver.apprise_keys(keys) == sorted(keys)
        assert len(receiver.posts) == 2 * len(expected)

    # Each wanted labelling published twice from the start (a producer's retry).
    publish(*unwanted, wanted[0], wanted[0], *unwanted, wanted[1])
    sent += wanted
    with notifier_process(env, tmp_path / "first.log"):
        notified_exactly_once_for(sent)

    first = next(body for path, headers, body in receiver.posts
                 if path == "/hook" and body["event_id"] == wanted[0].event_id)
    assert (first["camera"], first["label"], first["confidence"]) == (CAMERA, LABEL, 97.0)
    assert httpx.get(first["image_url"]).content == IMAGE_BYTES  # the presigned link works
    assert all({k.lower(): v for k, v in headers.items()}["idempotency-key"] == body["event_id"]
               for path, headers, body in receiver.posts if path == "/hook")

    # Restarted; meanwhile the same labellings were published again, at new offsets.
    sentinel = sighting_at_the_door()
    publish(*wanted, *unwanted, sentinel)
    sent.append(sentinel)
    with notifier_process(env, tmp_path / "second.log"):
        notified_exactly_once_for(sent)

    # Stopped, the group's offsets reset to the beginning: the whole topic comes again.
    reset_offsets(bootstrap, topic, group)
    sentinel = sighting_at_the_door()
    publish(sentinel)
    sent.append(sentinel)
    with notifier_process(env, tmp_path / "third.log"):
        notified_exactly_once_for(sent)
