"""Test support: a drawn camera still, for tests and benchmarks that need a JPEG a stub
labels (what it shows does not matter to them; real detectors get samples/photos); an event
of the contract as the labeler makes it; the Kafka and AWS chores of tests (a fresh topic,
records sent and read back, a client of the stack's moto); and a service run on a thread of
the test's process (ServiceThread).

Needs Pillow, which the workspace's dev group installs.
"""

from __future__ import annotations

import asyncio
import io
import random
import shutil
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from PIL import Image, ImageDraw

from labelgraph_contract import (
    BoundingBox,
    DetectedLabel,
    ImageLabeled,
    LabelInstance,
    captured_fields,
    encode_event,
    labelling_event_id,
)
from labelgraph_devstack.clients import aws_client  # noqa: F401 (re-exported: tests import it here)

Headers = list[tuple[str, bytes]]
# A still stamped on its camera's clock (8 h behind UTC), and when it was labelled.
# Debian's Chromium for the page tests, and the flags without which it reaches for
# Google's services, which this machine cannot reach.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CAPTURED = datetime(2016, 11, 5, 7, 15, 30, tzinfo=timezone(timedelta(hours=-8)))
LABELED_AT = datetime(2026, 11, 1, tzinfo=UTC)



@contextmanager
def signed_in_page(base_url: str, path: str, api_key: str) -> Iterator[tuple[Any, list[str]]]:
    """A page of the api in Chromium, opened at `path` and signed in with `api_key`, and the
    list its uncaught script errors go to (a test asserts it empty). Playwright is imported
    here: only the page tests need it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=base_url, viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path)
            page.get_by_label("API key").fill(api_key)
            page.get_by_role("button", name="Sign in").click()
            yield page, errors
        finally:
            browser.close()

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


def labelled_event(key: str, labels: Mapping[str, float] | list[DetectedLabel] | None = None,
                   *, camera: str = "front", captured: datetime = CAPTURED,
                   labeled_at: datetime = LABELED_AT, detector: str = "aws-rekognition",
                   etag: str = "etag", event_id: str | None = None) -> ImageLabeled:
    """One labelling of `key` as the labeler sends it, with the event id it derives unless
    one is given; labels by name and confidence, or as the contract's DetectedLabels."""
    identity = {"bucket": "security-alarms", "object_key": key, "image_etag": etag,
                "detector": detector, "model_version": "3.0"}
    if labels is None or isinstance(labels, Mapping):
        labels = [DetectedLabel(name=name, confidence=confidence)
                  for name, confidence in (labels or {}).items()]
    derived = labelling_event_id(**identity, parameters=None)
    return ImageLabeled.model_validate(dict(
        event_id=event_id or derived, **identity, camera=camera,
        **captured_fields(captured), labeled_at=labeled_at, labels=labels))


def boxed_labels(count: int, boxes: int = 10, confidence: float = 60.5) -> list[DetectedLabel]:
    """`count` labels of `boxes` boxes each: 1,000 of ten make about 1.3 MB of JSON, over
    the contract's largest event (labels of one confidence, so any cut keeps their order)."""
    box = LabelInstance(bounding_box=BoundingBox(width=0.123456, height=0.123456,
                                                 left=0.123456, top=0.123456),
                        confidence=confidence)
    return [DetectedLabel(name=f"Thing {n:04}", confidence=confidence, instances=[box] * boxes)
            for n in range(count)]


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


# serve(stop, started): runs the service until `stop` is set, calls started() once it serves.
Serve = Callable[[asyncio.Event, Callable[[], None]], Awaitable[None]]


class ServiceThread:
    """A service's serve() on a thread of the test's process, on an event loop of its own,
    stopped as SIGTERM stops it (its stop event set). What serve() raises is raised in the
    test's thread: at the start, from alive(), or at the exit."""

    def __init__(self, serve: Serve, name: str, timeout: float = 30) -> None:
        self._serve, self._name, self._timeout = serve, name, timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as error:  # re-raised in the test's thread
            self._error = error
            self._started.set()

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self._serve(self._stop, self._started.set)

    def alive(self) -> bool:
        """True while serve() has not failed; its error once it has."""
        if self._error is not None:
            raise self._error
        return True

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._started.wait(self._timeout):
            raise AssertionError(f"{self._name} did not start within {self._timeout} s")
        self.alive()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(self._timeout)
        assert not self._thread.is_alive(), f"{self._name} did not stop within {self._timeout} s"
        if exc[0] is None:  # else the test's own failure is the one to see
            self.alive()
