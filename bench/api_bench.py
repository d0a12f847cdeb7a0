"""Api: p50/p95 latency of the heat map, histogram, image search and accuracy routes over a
graph of tens of thousands of images, built by the real graph-writer from dataset.py's events.

    python bench/api_bench.py --output bench-output [--images 20000] [--requests 40]

Latencies are measured over HTTP against the real api process, one request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from dataset import CAMERAS, generate_events
from neo4j import GraphDatabase

from labelgraph_api import queries
from labelgraph_contract import ImageLabeled
from labelgraph_demo.loading import publish_events
from labelgraph_demo.services import ServiceProcesses
from labelgraph_devstack import EmbeddedStack

# The other design of the label search, kept to compare with the api's statement on the
# same graph: count the asked labels among every label edge of the images in scope.
_TAIL = "OPTIONAL MATCH" + queries.IMAGES_WITH_LABELS.split("OPTIONAL MATCH", 1)[1]
SEARCH_BY_COUNTING = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)-[has_label:HAS_LABEL]->(label:Label)
WHERE ($cameras IS NULL OR camera.camera_name IN $cameras)
  AND ($since IS NULL OR image.timestamp >= $since)
  AND ($until IS NULL OR image.timestamp < $until)
  AND label.label_name IN $labels
  AND has_label.confidence >= $min_confidence AND has_label.confidence <= $max_confidence
WITH camera, image, count(DISTINCT label) AS matched
WHERE matched = size($labels)
WITH camera, image ORDER BY image.timestamp DESC, image.object_key DESC LIMIT $limit
""" + _TAIL
SEARCH_FROM_FIRST_LABEL = queries.IMAGES_WITH_LABELS
SEARCHES: dict[str, dict[str, Any]] = {
    "Person >= 90, one camera": dict(labels=["Person"], min_confidence=90.0,
                                     cameras=[CAMERAS[1]], since=None, until=None),
    "Person and Car, one month": dict(labels=["Car", "Person"], min_confidence=0.0,
                                      cameras=None, since=1480579200, until=1483257600),
}

TOPIC = "api-bench"
KEY = "bench-key"
HEADERS = {"X-API-Key": KEY}

# The questions timed: the route, then its query parameters.
ROUTES: dict[str, tuple[str, dict[str, Any]]] = {
    "heat map, Person >= 90, one month, all cameras": (
        "/sightings", {"since": "2016-11-01T00:00:00-07:00", "until": "2016-12-01T00:00:00-08:00"}),
    "heat map, default (last 2 h, empty)": ("/sightings", {}),
    "histogram, Person, all cameras, all time": ("/confidence-histogram", {}),
    "histogram, Plant, one camera, width 5": (
        "/confidence-histogram", {"label": "Plant", "camera": CAMERAS[0], "bucket_width": 5}),
    "image search, newest 50": ("/images", {"limit": 50}),
    "image search, Person >= 90 on one camera, 50": (
        "/images", {"label": "Person", "min_confidence": 90, "camera": CAMERAS[1], "limit": 50}),
    "image search, Person+Car, one month, 50": (
        "/images", {"label": ["Person", "Car"], "since": "2016-12-01T00:00:00-08:00",
                    "until": "2017-01-01T00:00:00-08:00", "limit": 50}),
    "accuracy, Person, all reviewed": ("/accuracy", {}),
    "accuracy, Person, one camera": ("/accuracy", {"camera": CAMERAS[2], "threshold": 50}),
    "review queue, Person, first 50": ("/review-queue", {"limit": 50}),
    "labels, most frequent 50": ("/labels", {"limit": 50}),
    "cameras": ("/cameras", {}),
}




def wait_loaded(client: httpx.Client, expected: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        served = sum(row["images"] for row in client.get("/cameras").json())
        if served >= expected:
            return time.monotonic() - started
        time.sleep(2)
    raise TimeoutError(f"graph not loaded after {timeout}s")


def record_verdicts(client: httpx.Client, events: list[ImageLabeled], count: int) -> list[float]:
    """Reviewers judge `count` images (seeded): every PUT's latency in seconds."""
    rng = random.Random(7)
    latencies = []
    for event in rng.sample(events, count):
        has_person = any(label.name == "Person" for label in event.labels)
        present = has_person if rng.random() < 0.8 else not has_person
        started = time.perf_counter()
        response = client.put("/verdicts", json={"object_key": event.object_key,
                                                 "present": present, "reviewer": "bench"})
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


def timed(client: httpx.Client, path: str, params: dict[str, Any], requests: int) -> list[float]:
    client.get(path, params=params).raise_for_status()  # warm: driver pool, query plans
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path, params=params).raise_for_status()
        latencies.append(time.perf_counter() - started)
    return latencies


def compare_searches(env: dict[str, str], requests: int) -> dict[str, Any]:
    """Both label-search designs on the same graph, interleaved so drift hits both alike."""
    results: dict[str, Any] = {}
    with GraphDatabase.driver(env["NEO4J_URI"],
                              auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])) as driver:
        for name, scope in SEARCHES.items():
            params = {**scope, "first": scope["labels"][0], "max_confidence": 100.0,
                      "after_ts": None, "after_key": None, "limit": 50}
            times: dict[str, list[float]] = {"counting": [], "from_first_label": []}
            answers = {}
            for _ in range(requests):
                for design, text in (("counting", SEARCH_BY_COUNTING),
                                     ("from_first_label", SEARCH_FROM_FIRST_LABEL)):
                    started = time.perf_counter()
                    records, _, _ = driver.execute_query(text, params, database_="neo4j")
                    times[design].append(time.perf_counter() - started)
                    answers[design] = [record["object_key"] for record in records]
            assert answers["counting"] == answers["from_first_label"], name
            counting, first = (summary(times[d]) for d in ("counting", "from_first_label"))
            results[name] = {"counting": counting, "from_first_label": first,
                             "p50_ratio": round(counting["p50_ms"] / first["p50_ms"], 2)}
    return results


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] * 1000, 1),
            "n": len(ordered)}


def run(images: int, requests: int, reviews: int) -> dict[str, Any]:
    events = list(generate_events(images, seed=42))
    with tempfile.TemporaryDirectory() as state, EmbeddedStack(Path(state) / "stack") as stack:
        asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], TOPIC, events,
                                   partitions=6))
        services = ServiceProcesses(stack.env, Path(state) / "logs", extra_env={
            "LABEL_TOPIC": TOPIC, "API_KEYS": KEY, "API_QUERY_TIMEOUT_SECONDS": "120"})
        try:
            services.start(names=("graph-writer", "api"))
            with httpx.Client(base_url=services.api_url, headers=HEADERS, timeout=300) as client:
                load_seconds = wait_loaded(client, images, timeout=3600)
                verdicts = summary(record_verdicts(client, events, reviews))
                routes = {name: {"route": path, **summary(timed(client, path, params, requests))}
                          for name, (path, params) in ROUTES.items()}
            searches = compare_searches(stack.env, requests // 2)
        finally:
            services.__exit__(None, None, None)
    return {"images": images, "label_rows": sum(len(e.labels) for e in events),
            "load_seconds": round(load_seconds, 1), "reviews": reviews,
            "verdict_put": verdicts, "routes": routes, "label_search_designs": searches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reviews", type=int, default=1_000)
    args = parser.parse_args()
    result = run(args.images, args.requests, args.reviews)
    result |= {"date": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.processor() or platform.machine()}, "
                          f"{os.cpu_count()} cpus, {platform.platform()}"}
    print(json.dumps(result, indent=2))
    args.output.mkdir(parents=True, exist_ok=True)
    with (args.output / "api.jsonl").open("a") as out:
        out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
