"""Tallies at a million images: the graph-writer's transaction builds one graph size by size
(20,000, 214,000, 1,000,000 images of dataset.py at 1,200 a day), settled days are folded as
the writer's task folds them, and at each size the tally reads the api makes are timed
against the graph, with the graph's memory and disk.

    python bench/tally_scale_bench.py --output bench-output [--sizes 20000,214000,1000000]

The writes go through the graph-writer's own adapter (`LabelGraph.write_batch`, batches of
500, as `graph_writer_bench.py`'s b3), without Kafka: a million events through the topic
would measure the broker stand-in too. The reads are the api's own statements
(`queries.TALLY_THIN`, `queries.TALLY_CELLS`), timed one at a time, `--requests` each:
- all time, one label: each camera's total shard holding it, and the registries;
- rollup by month, one label: each camera's month shards holding it, over the history;
- a 30-day window, one label: each camera's day nodes of the last 30 days.
Their cost should follow the nodes they read (cameras x periods), not the images.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dataset import generate_events
from neo4j import AsyncDriver
from report import graph_footprint, record, run_facts, summary

from labelgraph_api import queries
from labelgraph_devstack import EmbeddedStack
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.bootstrap import build_driver
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.tallies import (
    ANY_DETECTOR,
    shard_of,
    tally_key_text,
    tally_property,
)

PER_DAY = 1_200
BATCH = 500
SIZES = "20000,214000,1000000"
DATES = "MATCH (iso:ISODate) RETURN iso.iso_date AS iso_date"
CAMERAS = "MATCH (camera:Camera) RETURN camera.camera_name AS camera"


async def grow(graph: LabelGraph, events: Any, count: int) -> float:
    """Write the next `count` events, folding settled days every 20 batches; images/s."""
    started = time.perf_counter()
    written = 0
    while written < count:
        batch = [next(events) for _ in range(min(BATCH, count - written))]
        keys = sorted({event.object_key for event in batch})
        await graph.write_batch(keys, functools.partial(plan_batch, batch))
        written += len(batch)
        if (written // BATCH) % 20 == 0:
            await graph.fold_settled_days(time.time() - 5, 10_000)
    await graph.fold_settled_days(time.time() + 1, 10_000)  # the last days too
    return count / (time.perf_counter() - started)


async def timed(driver: AsyncDriver, requests: int, statement: str,
                **parameters: Any) -> dict[str, Any]:
    latencies, rows = [], 0
    for _ in range(requests):
        began = time.perf_counter()
        async with driver.session(database="neo4j") as session:
            result = await session.run(statement, parameters)
            rows = len([record async for record in result])
        latencies.append(time.perf_counter() - began)
    return summary(latencies) | {"rows": rows}


async def reads(driver: AsyncDriver, requests: int) -> dict[str, Any]:
    async with driver.session(database="neo4j") as session:
        dates = sorted([r["iso_date"] async for r in await session.run(DATES)])
        cameras = sorted([r["camera"] async for r in await session.run(CAMERAS)])
    person = tally_property(ANY_DETECTOR, "Person")
    shard = shard_of(person)
    months = sorted({day[:7] for day in dates})
    return {
        "all time, Person: total shard per camera, and the registries": await timed(
            driver, requests, queries.TALLY_THIN, property=person,
            keys=[tally_key_text(key) for camera in cameras
                  for key in (("total", camera, None, shard), ("unfolded", camera))]),
        "rollup by month, Person: month shards": await timed(
            driver, requests, queries.TALLY_THIN, property=person,
            keys=[tally_key_text(("month", camera, month, shard))
                  for camera in cameras for month in months]),
        "30 days, Person: day nodes": await timed(
            driver, requests, queries.TALLY_CELLS, property=person,
            keys=[tally_key_text(("day", camera, day))
                  for camera in cameras for day in dates[-30:]]),
    }


async def run(stack: EmbeddedStack, sizes: list[int], requests: int) -> dict[str, Any]:
    settings = GraphWriterSettings(  # type: ignore[call-arg]
        neo4j_uri=stack.env["NEO4J_URI"], neo4j_password=stack.env["NEO4J_PASSWORD"])
    driver = build_driver(settings)
    graph = LabelGraph(driver, "neo4j")
    await graph.ensure_schema()
    events = generate_events(max(sizes), per_day=PER_DAY)
    results, held = {}, 0
    try:
        for size in sizes:
            rate = await grow(graph, events, size - held)
            held = size
            results[str(size)] = {"images_per_second": round(rate), **graph_footprint(stack),
                                  "reads": await reads(driver, requests)}
            print(json.dumps({"size": size, **results[str(size)]}), file=sys.stderr,
                  flush=True)
    finally:
        await driver.close()
    return {"sizes": results, "requests": requests, "images_per_day": PER_DAY}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--sizes", default=SIZES)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--graph-heap", default="6g", help="ArcadeDB's -Xmx")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as state, \
            EmbeddedStack(Path(state), graph_heap=args.graph_heap) as stack:
        result = asyncio.run(run(stack, sizes, args.requests))
    record(args.output, "tally_scale", result | {"graph_heap": args.graph_heap} | run_facts())


if __name__ == "__main__":
    main()
