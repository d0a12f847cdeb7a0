"""Graph-writer: label rows per second, (a) the original loader, (b) batched statement designs
sent directly, (c) the graph-writer end to end from the topic. One stack, one run.

    python bench/graph_writer_bench.py --output bench-output [--images 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from dataset import generate_events
from neo4j import AsyncDriver, AsyncManagedTransaction
from prometheus_client import REGISTRY
from report import record, run_facts

from labelgraph_contract import ImageLabeled
from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.testing import publish_events
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.bootstrap import build_driver, serve
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.domain import image_row, plan_batch

# (a) The original loader, reproduced on purpose: one transaction per label row, values
# pasted into the text, MERGE on every property. Never do this outside this benchmark.
ORIGINAL_ROW = (
    "MERGE (c:Camera {{camera_name: '{camera}'}}) "
    "MERGE (i:Image {{object_key: '{key}', isodate: '{isodate}', timestamp: {ts}}}) "
    "MERGE (c)-[:HAS_IMAGE {{timestamp: {ts}}}]->(i) "
    "MERGE (l:Label {{label_name: '{label}'}}) "
    "MERGE (i)-[:HAS_LABEL {{confidence: {confidence}}}]->(l) "
    "MERGE (d:ISODate {{iso_date: '{iso_date}'}}) MERGE (i)-[:HAS_TIMESTAMP]->(d) "
    "MERGE (y:Year {{year_value: {year}}}) MERGE (i)-[:HAS_YEAR]->(y) "
    "MERGE (m:Month {{month_value: {month}}}) MERGE (i)-[:HAS_MONTH]->(m) "
    "MERGE (dd:Day {{day_value: {day}}}) MERGE (i)-[:HAS_DAY]->(dd) "
    "MERGE (h:Hour {{hour_value: {hour}}}) MERGE (i)-[:HAS_HOUR]->(h)"
)

# (b1) One UNWIND statement holding every MERGE (the walking skeleton's design).
ONE_STATEMENT = """
UNWIND $rows AS row
MERGE (camera:Camera {camera_name: row.camera})
MERGE (image:Image {object_key: row.object_key})
SET image += row.props
MERGE (camera)-[has_image:HAS_IMAGE]->(image)
SET has_image.timestamp = row.timestamp
MERGE (iso:ISODate {iso_date: row.iso_date}) MERGE (image)-[:HAS_TIMESTAMP]->(iso)
MERGE (year:Year {year_value: row.year}) MERGE (image)-[:HAS_YEAR]->(year)
MERGE (month:Month {month_value: row.month}) MERGE (image)-[:HAS_MONTH]->(month)
MERGE (day:Day {day_value: row.day}) MERGE (image)-[:HAS_DAY]->(day)
MERGE (hour:Hour {hour_value: row.hour}) MERGE (image)-[:HAS_HOUR]->(hour)
WITH image, row
UNWIND row.labels AS item
MERGE (label:Label {label_name: item.name})
MERGE (image)-[has_label:HAS_LABEL {detector: row.detector}]->(label)
SET has_label.confidence = item.confidence
"""

# (b2) Three statements in one transaction, all MERGE: shared nodes (the writer's own
# statements), images with their links, then label edges matching what exists.
IMAGES_MERGED = """
UNWIND $rows AS row
MERGE (image:Image {object_key: row.object_key})
SET image += row.props
WITH image, row
MATCH (camera:Camera {camera_name: row.camera})
MATCH (iso:ISODate {iso_date: row.iso_date})
MATCH (year:Year {year_value: row.year})
MATCH (month:Month {month_value: row.month})
MATCH (day:Day {day_value: row.day})
MATCH (hour:Hour {hour_value: row.hour})
MERGE (camera)-[has_image:HAS_IMAGE]->(image)
SET has_image.timestamp = row.timestamp
MERGE (image)-[:HAS_TIMESTAMP]->(iso)
MERGE (image)-[:HAS_YEAR]->(year)
MERGE (image)-[:HAS_MONTH]->(month)
MERGE (image)-[:HAS_DAY]->(day)
MERGE (image)-[:HAS_HOUR]->(hour)
"""
LABELS_MERGED = """
UNWIND $rows AS row
MATCH (image:Image {object_key: row.object_key})
MATCH (label:Label {label_name: row.label})
MERGE (image)-[has_label:HAS_LABEL {detector: row.props.detector}]->(label)
SET has_label += row.props
"""

WITHOUT_TALLIES = "b4_graph_writer_without_tallies"

Design = Callable[[AsyncDriver, list[ImageLabeled]], Awaitable[None]]


def label_rows(events: Iterable[ImageLabeled]) -> int:
    return sum(len(event.labels) for event in events)


async def original(driver: AsyncDriver, events: list[ImageLabeled]) -> None:
    async with driver.session(database="neo4j") as session:
        for event in events:
            row = image_row(event)
            for label in event.labels:
                text = ORIGINAL_ROW.format(
                    camera=event.camera, key=event.object_key, isodate=row["props"]["isodate"],
                    ts=event.event_ts, label=label.name, confidence=label.confidence,
                    iso_date=row["iso_date"], year=row["year"], month=row["month"],
                    day=row["day"], hour=row["hour"])
                await (await session.run(text)).consume()  # type: ignore[arg-type]


async def one_statement(driver: AsyncDriver, events: list[ImageLabeled]) -> None:
    rows = []
    for event in events:
        row = image_row(event)
        rows.append(row | {"detector": event.detector, "labels": [
            {"name": label.name, "confidence": label.confidence} for label in event.labels]})
    async with driver.session(database="neo4j") as session:
        await session.execute_write(_run, ONE_STATEMENT, {"rows": rows})


async def three_merged(driver: AsyncDriver, events: list[ImageLabeled]) -> None:
    from labelgraph_graph_writer import cypher

    plan = plan_batch(events, {})

    async def write(tx: AsyncManagedTransaction) -> None:
        for name, values in plan.shared.items():
            await _run(tx, cypher.SHARED_NODES[name], {name: values})
        await _run(tx, IMAGES_MERGED, {"rows": plan.images})
        await _run(tx, LABELS_MERGED, {"rows": plan.label_rows})

    async with driver.session(database="neo4j") as session:
        await session.execute_write(write)


def graph_writer_design(driver: AsyncDriver, events: list[ImageLabeled]) -> Awaitable[Any]:
    """(b3) The graph-writer's own transaction: read what is held, then CREATE what is new."""
    keys = sorted({event.object_key for event in events})
    return LabelGraph(driver, "neo4j").write_batch(keys, lambda held: plan_batch(events, held))


def graph_writer_without_tallies(driver: AsyncDriver,
                                 events: list[ImageLabeled]) -> Awaitable[Any]:
    """(b4) The same transaction without its tally statements and label edge counts: the
    graph-writer before tallies (4adf311). Its read of the held images differs only in what
    it returns of held images, and every image here is new, so it finds none either way."""
    keys = sorted({event.object_key for event in events})
    return LabelGraph(driver, "neo4j").write_batch(
        keys, lambda held: dataclasses.replace(plan_batch(events, held), tallies=[],
                                               label_counts=[]))


async def _run(tx: AsyncManagedTransaction, text: str, parameters: dict[str, Any]) -> None:
    await (await tx.run(text, parameters)).consume()


async def measure(driver: AsyncDriver, design: Design, events: list[ImageLabeled],
                  batch: int) -> float:
    """Label rows per second writing `events` in batches into an empty graph."""
    graph = LabelGraph(driver, "neo4j")
    await graph.wipe()
    await graph.ensure_schema()
    started = time.perf_counter()
    for start in range(0, len(events), batch):
        await design(driver, events[start:start + batch])
    rate = label_rows(events) / (time.perf_counter() - started)
    print(f"  {getattr(design, '__name__', design)} batch {batch}: {rate:,.0f} rows/s",
          file=sys.stderr)
    return rate


async def end_to_end(stack_env: dict[str, str], driver: AsyncDriver,
                     events: list[ImageLabeled], batch: int) -> float:
    """Label rows per second from the first batch consumed to the last one committed."""
    topic = f"bench-{time.time_ns()}"
    servers = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    await publish_events(servers, topic, events, partitions=6)
    graph = LabelGraph(driver, "neo4j")
    await graph.wipe()
    settings = GraphWriterSettings(  # type: ignore[call-arg]
        kafka_bootstrap_servers=servers, neo4j_uri=stack_env["NEO4J_URI"],
        neo4j_password=stack_env["NEO4J_PASSWORD"],
        label_topic=topic, label_dlq_topic=f"{topic}.dlq", consumer_group=topic,
        batch_size=batch, session_timeout_ms=2000, heartbeat_interval_ms=500, ops_port=0)
    before = _written()
    started = time.perf_counter()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    first: float | None = None
    first_count = 0.0
    while _written() - before < len(events):
        if task.done():
            task.result()
        if first is None and _written() > before:
            first, first_count = time.perf_counter(), _written() - before
        await asyncio.sleep(0.005)
    last = time.perf_counter()
    stop.set()
    await task
    if first is None or first_count >= len(events):  # one batch: count the start too
        rate = label_rows(events) / (last - started)
    else:
        rate = label_rows(events) * (1 - first_count / len(events)) / (last - first)
    print(f"  end to end batch {batch}: {rate:,.0f} rows/s", file=sys.stderr)
    return rate


def _written() -> float:
    return REGISTRY.get_sample_value("graph_writer_events_total", {"outcome": "written"}) or 0.0


async def run(stack: EmbeddedStack, images: int, original_rows: int, batch: int,
              rounds: int, per_day: int | None) -> dict[str, Any]:
    # Spread over six months unless told, as when the figures in docs/benchmarks.md were
    # taken: the share of time nodes and tallies an image shares with others shapes the
    # write (a camera's day is one tally node).
    per_day = per_day or max(1, images // 180)
    events = list(generate_events(images, per_day=per_day))
    original_events = events[: max(1, original_rows // 10)]
    settings = GraphWriterSettings(  # type: ignore[call-arg]
        neo4j_uri=stack.env["NEO4J_URI"], neo4j_password=stack.env["NEO4J_PASSWORD"])
    driver = build_driver(settings)
    runs: dict[str, list[float]] = {}
    designs = (("b1_one_statement", one_statement),
               ("b2_three_statements_merge", three_merged),
               ("b3_graph_writer_statements", graph_writer_design),
               (WITHOUT_TALLIES, graph_writer_without_tallies))
    try:
        # A first pass warms the JVM's JIT, so the first design measured is not penalised.
        await measure(driver, graph_writer_design, events[:1000], batch)
        # The machine is shared: rounds interleave the designs so that load drifts hit
        # all of them alike, and the median of each is reported. The original loader too:
        # measured once, its rate moved from 567 to 1,005 rows/s between runs.
        for _ in range(rounds):
            runs.setdefault("a_original", []).append(
                await measure(driver, original, original_events, batch))
            for name, design in designs:
                runs.setdefault(name, []).append(await measure(driver, design, events, batch))
            runs.setdefault("c_end_to_end", []).append(
                await end_to_end(stack.env, driver, events, batch))
        for size in (100, 2000):
            runs[f"b3_graph_writer_statements_batch_{size}"] = [await measure(
                driver, graph_writer_design, events, size)]
    finally:
        await driver.close()
    figures = {name: statistics.median(values) for name, values in runs.items()}
    # The ceiling: the best design measured in every round (single passes are not
    # comparable on a shared machine).
    # (b4 does less than the graph-writer does, so it is no ceiling for it.)
    ceiling = max(figures[name] for name, _ in designs if name != WITHOUT_TALLIES)
    return {"rows_per_second_median": {k: round(v) for k, v in figures.items()},
            "rows_per_second_each_round": {k: [round(v) for v in vs] for k, vs in runs.items()},
            "b_ceiling": round(ceiling),
            "c_over_a": round(figures["c_end_to_end"] / figures["a_original"], 1),
            "c_over_b": round(figures["c_end_to_end"] / ceiling, 2),
            "c_over_a_each_round": [round(c / a, 1) for c, a in zip(
                runs["c_end_to_end"], runs["a_original"], strict=True)],
            "c_over_b3_each_round": [round(c / b, 2) for c, b in zip(
                runs["c_end_to_end"], runs["b3_graph_writer_statements"], strict=True)],
            # Issue 22's target: with tallies at least 85% of the writes without them.
            "b3_over_b4_each_round": [round(b3 / b4, 2) for b3, b4 in zip(
                runs["b3_graph_writer_statements"], runs[WITHOUT_TALLIES],
                strict=True)],
            "images": images, "images_per_day": per_day, "label_rows": label_rows(events),
            "original_label_rows": label_rows(original_events), "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--original-rows", type=int, default=6_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=None,
                        help="images a day over the nine cameras (default: six months' worth)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, EmbeddedStack(Path(state)) as stack:
        result = asyncio.run(run(stack, args.images, args.original_rows, args.batch,
                                     args.rounds, args.per_day))
    record(args.output, "graph_writer", result | run_facts())


if __name__ == "__main__":
    main()
