"""The labeler's publisher, the graph-writer's consumer and provision's topic creation
through TLS, with the options labelgraph_kafka makes, against a real Kafka-protocol broker.

Tansu 0.6.0 (the embedded broker) cannot serve TLS itself: `--cert` with `--key` is refused
by its command line ("cannot be used with"), and `--cert` alone still serves plaintext. So
a TLS terminator in the test (Python's ssl, optionally demanding a client certificate) sits
in front of a private Tansu, which advertises the terminator's address: every byte the
clients exchange with the broker goes through the TLS connection they set up themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    decode_event,
    labelling_event_id,
)
from labelgraph_devstack.kafka import tansu
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_ports
from labelgraph_devstack.probes import tcp_accepts
from labelgraph_graph_writer.adapters.kafka import LabelConsumer
from labelgraph_graph_writer.readiness import Readiness
from labelgraph_kafka import KafkaSettings
from labelgraph_labeler.adapters.kafka import LabelPublisher, PublishFailed
from labelgraph_provision.kafka import ensure_topics
from labelgraph_provision.report import Status
from labelgraph_provision.settings import ProvisionSettings


class TlsTerminator:
    """Accepts TLS on one port and relays the plaintext to the broker's port."""

    def __init__(self, port: int, broker_port: int, context: ssl.SSLContext) -> None:
        self._port, self._broker_port, self._context = port, broker_port, context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> TlsTerminator:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(asyncio.start_server(
            self._relay, "127.0.0.1", self._port, ssl=self._context), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _relay(self, client_in: asyncio.StreamReader,
                     client_out: asyncio.StreamWriter) -> None:
        broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self._broker_port)
        await asyncio.gather(_pipe(client_in, broker_out), _pipe(broker_in, client_out),
                             return_exceptions=True)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    finally:
        with contextlib.suppress(Exception):
            sink.close()


def _server_context(authority, require_client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.server_cert, authority.server_key)
    if require_client_cert:
        context.load_verify_locations(authority.ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@contextlib.contextmanager
def tls_broker(authority, tmp_path: Path, require_client_cert: bool = False) -> Iterator[str]:
    """A private Tansu reachable only through TLS; yields the TLS bootstrap address."""
    broker_port, tls_port = free_ports(2)
    argv = list(tansu(broker_port, tmp_path).argv)
    argv[argv.index("--advertised-listener-url") + 1] = f"tcp://127.0.0.1:{tls_port}"
    broker = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: tcp_accepts(broker_port), timeout=20)
        with TlsTerminator(tls_port, broker_port,
                           _server_context(authority, require_client_cert)):
            yield f"127.0.0.1:{tls_port}"
    finally:
        broker.terminate()
        broker.wait(10)


def _event(object_key: str) -> ImageLabeled:
    identity = dict(bucket="security-alarms", object_key=object_key, image_etag="abc",
                    detector="aws-rekognition", model_version="3.0")
    captured = datetime(2016, 11, 30, 23, 30, 5, tzinfo=timezone(timedelta(hours=-8)))
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera="frontdoor",
        **captured_fields(captured), labeled_at=datetime(2026, 11, 25, tzinfo=UTC),
        labels=[DetectedLabel(name="Person", confidence=99.2, parents=["Human"])]))


def _through_the_pipeline(connection: KafkaSettings) -> list[ImageLabeled]:
    """Provision the topics, publish one event as the labeler does, read it as the
    graph-writer does; the events read."""
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    outcomes = asyncio.run(ensure_topics(ProvisionSettings(
        label_topic=topic, label_topic_partitions=1, label_dlq_topic=f"{topic}.dlq",
        label_dlq_topic_partitions=1, kafka=connection)))
    assert [outcome.status for outcome in outcomes] == [Status.CREATED, Status.CREATED]

    async def publish_then_consume() -> list[ImageLabeled]:
        publisher = LabelPublisher(connection, topic, timeout_seconds=10, check_seconds=5)
        await publisher.start()
        try:
            assert await publisher.check() is None
            await publisher.publish(_event("alarms/frontdoor/2016-11-30/23/tls.jpg"))
        finally:
            await publisher.stop()
        consumer = LabelConsumer(connection, topic, f"g-{topic}", Readiness(),
                                 session_timeout_ms=2000, heartbeat_interval_ms=500)
        await consumer.start()
        try:
            async with asyncio.timeout(30):
                while not (records := await consumer.next_batch(10)):
                    pass
        finally:
            await consumer.stop()
        return [decode_event(record.value) for record in records]

    return asyncio.run(publish_then_consume())


def _tls(bootstrap: str, ca_file: Path, **more: str) -> KafkaSettings:
    return KafkaSettings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                   "KAFKA_SECURITY_PROTOCOL": "SSL",
                                   "KAFKA_SSL_CA_FILE": str(ca_file), **more})


def test_provision_labeler_and_graph_writer_work_over_tls(authority, tmp_path):
    with tls_broker(authority, tmp_path) as bootstrap:
        events = _through_the_pipeline(_tls(bootstrap, authority.ca_file))
    assert [event.object_key for event in events] == ["alarms/frontdoor/2016-11-30/23/tls.jpg"]


def test_they_work_over_mutual_tls_with_the_client_certificate(authority, tmp_path):
    with tls_broker(authority, tmp_path, require_client_cert=True) as bootstrap:
        events = _through_the_pipeline(_tls(
            bootstrap, authority.ca_file, KAFKA_SSL_CERT_FILE=str(authority.client_cert),
            KAFKA_SSL_KEY_FILE=str(authority.client_key)))
    assert len(events) == 1


def test_a_broker_signed_by_another_ca_is_refused(authority, stranger, tmp_path):
    with tls_broker(authority, tmp_path) as bootstrap:
        wrong = _tls(bootstrap, stranger.ca_file)
        with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
            asyncio.run(ensure_topics(ProvisionSettings(kafka=wrong)))

        async def publish() -> None:
            publisher = LabelPublisher(wrong, "image-labels", timeout_seconds=3,
                                       check_seconds=1)
            try:
                await publisher.start()
                await publisher.publish(_event("alarms/frontdoor/2016-11-30/23/x.jpg"))
            finally:
                await publisher.stop()

        with pytest.raises((KafkaConnectionError, PublishFailed)):
            asyncio.run(publish())


def test_the_refusal_says_the_certificate_failed_verification(authority, stranger, tmp_path,
                                                                caplog):
    with tls_broker(authority, tmp_path) as bootstrap, \
            pytest.raises(KafkaConnectionError):
        asyncio.run(ensure_topics(ProvisionSettings(kafka=_tls(bootstrap, stranger.ca_file))))
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
