"""Test support: a drawn camera still, for tests and benchmarks that need a JPEG a stub
labels (what it shows does not matter to them; real detectors get samples/photos), and the
Kafka and AWS chores of tests: a fresh topic, records sent and read back, a client of the
stack's moto.

Needs Pillow, which the workspace's dev group installs.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from PIL import Image, ImageDraw

from labelgraph_contract import ImageLabeled, encode_event

Headers = list[tuple[str, bytes]]


def draw_scene(has_person: bool, seed: str, hidden: bool = False) -> bytes:
    """A 320x240 JPEG: sky, lawn, a bush, and a figure when someone is there.

    A `hidden` figure is drawn half behind the bush, as in the images the original post
    found its detector missed.
    """
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (135, 170, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 240), fill=(70, 120, 60))
    bush_x = rng.randint(20, 200)
    if has_person:
        x = bush_x + 30 if hidden else rng.randint(40, 260)
        draw.ellipse((x - 8, 100, x + 8, 116), fill=(230, 190, 160))
        draw.line((x, 116, x, 160), fill=(30, 30, 90), width=5)
        draw.line((x, 160, x - 10, 190), fill=(30, 30, 90), width=4)
        draw.line((x, 160, x + 10, 190), fill=(30, 30, 90), width=4)
    bush_top = 125 if hidden else 120
    draw.ellipse((bush_x, bush_top, bush_x + 60, 175), fill=(40, 90, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class Sendable(Protocol):
    """A record to send: the contract's KafkaRecord, or a Message a test makes up."""

    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Headers: ...


@dataclass(frozen=True)
class Message:
    """A raw record, for what the contract would never encode (no key, a value not JSON)."""

    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)


def aws_client(env: dict[str, str], service: str) -> Any:
    """A boto3 client for one of the stack's AWS services, from the stack's environment."""
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    ).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


async def publish_events(bootstrap: str, topic: str, events: Iterable[ImageLabeled],
                         partitions: int) -> None:
    """Create a fresh topic and publish events on it as the labeler would (keyed, acks=all)."""
    await create_topics(bootstrap, [topic], partitions)
    await produce(bootstrap, topic, map(encode_event, events))


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: Iterable[Sendable]) -> None:
    """Send records in order, as the labeler does (acks=all), and wait until all are in."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for record in records:
            await producer.send(topic, record.value, key=record.key, headers=record.headers)
        await producer.flush()
    finally:
        await producer.stop()


async def read_until(bootstrap: str, topic: str,
                     enough: Callable[[list[ConsumerRecord]], bool],
                     timeout: float = 30) -> list[ConsumerRecord]:
    """Every record of every partition from the beginning, read until enough(records).

    One poll may answer for some partitions only: keep polling. Fails after timeout,
    naming how many records it did get.
    """
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    async with _reader(bootstrap, topic) as consumer:
        while not enough(records):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{topic}: {len(records)} records after {timeout}s, not enough")
            batches = await consumer.getmany(timeout_ms=300)
            records += [record for batch in batches.values() for record in batch]
    return records


async def read_until_quiet(bootstrap: str, topic: str,
                           quiet: float = 1.5) -> list[ConsumerRecord]:
    """Every record from the beginning, for a test that cannot know how many there are
    (it looks for copies): read until a poll of `quiet` seconds comes back empty."""
    records: list[ConsumerRecord] = []
    async with _reader(bootstrap, topic) as consumer:
        # Tansu's end offsets are unreliable, so silence is the only sign of the end.
        while batches := await consumer.getmany(timeout_ms=int(quiet * 1000)):
            records += [record for batch in batches.values() for record in batch]
    return records


@asynccontextmanager
async def _reader(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
