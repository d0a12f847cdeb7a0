"""The durable stack: what was acknowledged before every server was SIGKILLed is there,
once and only once, after a start on the same folder."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.clients import aws_client
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.testing import Message, create_topics, produce, read_until_quiet

IMAGES, ROWS, VERDICTS, RECORDS, NODES = 12, 30, 8, 40, 5
PARTITIONS = 3
GROUP = "durable-test"


@pytest.fixture
def durable_dir(tmp_path: Path) -> Path:
    return tmp_path / "devstack"


def _kill_every_server(stack: EmbeddedStack) -> None:
    """SIGKILL each server's process group at once, as a power cut would, then clean up."""
    for pid in stack.pids.values():
        os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: len(stack.exited()) == len(stack.pids), 10, what="every server dead")
    stack.stop()


def _keys(listing: dict[str, Any]) -> list[str]:
    return [item["Key"] for item in listing.get("Contents", [])]


def _scan(env: dict[str, str], table: str) -> list[dict[str, Any]]:
    dynamodb = aws_client(env, "dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def _put_aws(env: dict[str, str], run: str) -> None:
    s3, dynamodb = aws_client(env, "s3"), aws_client(env, "dynamodb")
    for n in range(IMAGES):
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=f"alarms/{run}/{n}.jpg", Body=b"jpeg")
    for n in range(ROWS):
        dynamodb.put_item(TableName=env["LABEL_TABLE"], Item={
            "object_key": {"S": f"alarms/{run}/{n % IMAGES}.jpg"}, "label": {"S": f"L{n}"},
            "capture_date": {"S": "2026-12-07"}, "event_ts": {"N": str(n)}})
    for n in range(VERDICTS):
        dynamodb.put_item(TableName=env["VERDICT_TABLE"], Item={
            "object_key": {"S": f"alarms/{run}/{n}.jpg"}, "label": {"S": "Person"}})


def _put_graph(env: dict[str, str], run: str) -> None:
    with neo4j.GraphDatabase.driver(
        env["NEO4J_URI"], auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    ) as driver:
        driver.execute_query("UNWIND range(1, $n) AS n CREATE (:Camera {run: $run, n: n})",
                             n=NODES, run=run)


def _graph_count(env: dict[str, str], run: str) -> int:
    with neo4j.GraphDatabase.driver(
        env["NEO4J_URI"], auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    ) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (c:Camera {run: $run}) RETURN count(c) AS n", run=run)
        return int(records[0]["n"])


async def _consume_and_commit(bootstrap: str, topic: str, count: int) -> dict[int, int]:
    """Read `count` records as a group member and commit them; the committed offsets."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=GROUP,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                session_timeout_ms=2000, heartbeat_interval_ms=500)
    await consumer.start()
    try:
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=count - seen)
            seen += sum(len(batch) for batch in batches.values())
        await consumer.commit()
        return await _committed(consumer, topic)
    finally:
        await consumer.stop()


async def _committed(consumer: AIOKafkaConsumer, topic: str) -> dict[int, int]:
    offsets = {p: await consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
    return {p: offset for p, offset in offsets.items() if offset is not None}


async def _committed_now(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        return await _committed(consumer, topic)
    finally:
        await consumer.stop()


async def _put_kafka(bootstrap: str, topic: str) -> dict[int, int]:
    await create_topics(bootstrap, [topic], PARTITIONS)
    records = [Message(f"k{n}".encode(), f"v{n}".encode()) for n in range(RECORDS)]
    await produce(bootstrap, topic, records)
    return await _consume_and_commit(bootstrap, topic, RECORDS // 2)


@pytest.fixture
def stack_killed_after_writes(durable_dir: Path) -> Iterator[tuple[str, str, dict[int, int]]]:
    run, topic = uuid.uuid4().hex, f"durable-{uuid.uuid4().hex[:8]}"
    stack = EmbeddedStack(durable_dir, durable=True).start()
    try:
        env = stack.env
        _put_aws(env, run)
        _put_graph(env, run)
        committed = asyncio.run(_put_kafka(env["KAFKA_BOOTSTRAP_SERVERS"], topic))
    finally:
        _kill_every_server(stack)
    yield run, topic, committed


@pytest.mark.stack
def test_everything_acknowledged_survives_a_sigkill_of_every_server(
    durable_dir: Path, stack_killed_after_writes: tuple[str, str, dict[int, int]]
) -> None:
    run, topic, committed = stack_killed_after_writes
    assert sum(committed.values()) == RECORDS // 2

    with EmbeddedStack(durable_dir, durable=True) as stack:
        env = stack.env
        listing = aws_client(env, "s3").list_objects_v2(Bucket=env["IMAGE_BUCKET"],
                                                        Prefix=f"alarms/{run}/")
        assert sorted(_keys(listing)) == sorted(f"alarms/{run}/{n}.jpg" for n in range(IMAGES))
        assert len(_scan(env, env["LABEL_TABLE"])) == ROWS
        assert len(_scan(env, env["VERDICT_TABLE"])) == VERDICTS
        assert _graph_count(env, run) == NODES
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        values = [r.value for r in asyncio.run(read_until_quiet(bootstrap, topic))]
        assert sorted(values) == sorted(f"v{n}".encode() for n in range(RECORDS))
        assert asyncio.run(_committed_now(bootstrap, topic)) == committed


@pytest.mark.stack
def test_a_second_start_provisions_nothing_new_and_keeps_the_graph_login(
    durable_dir: Path,
) -> None:
    with EmbeddedStack(durable_dir, durable=True) as first:
        password = first.env["NEO4J_PASSWORD"]
    with EmbeddedStack(durable_dir, durable=True) as second:
        assert second.env["NEO4J_PASSWORD"] == password
        assert second.provision_report is not None
        assert {o.status.value for o in second.provision_report.outcomes} == {"existed"}
