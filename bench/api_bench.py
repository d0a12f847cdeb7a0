"""Api: p50/p95 over HTTP of every route of issue 10's table, on one graph grown size by size.

    python bench/api_bench.py --output bench-output [--sizes 20000,100000,214000] [--requests 40]
    python bench/api_bench.py --sizes 20000,214000,1000000 --graph-heap 6g --graph DIR
    python bench/api_bench.py --sizes 1000000 --graph-heap 6g --graph DIR --measure-only

The real graph-writer builds the graph from dataset.py's events on a topic. dataset.py's
smaller sizes are prefixes of the larger ones (a longer history ending at the same END), so
each size only adds the older images to the same graph. At each size every question of
api_questions.py is asked `--requests` times against the real api process, one request at
a time, the questions interleaved round by round so that load drifts hit all of them alike.
The writer folds a day a minute (`--settle`) after its last write, and the questions wait
until every day is folded, as a production graph stands once its days have settled. An
answer other than 200 is counted as such, never fatal. Figures go to api.jsonl, the route x
size table (p50 / p95 ms and the p50 growth) to stdout.

A million images take the writer about 40 minutes here: `--graph DIR` keeps the graph (on
the durable stack), and `--measure-only` measures it again later, with the api and writer as
the checkout has them then, without publishing its images again (one is replayed so that
the topic exists).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api_questions import (
    ONE_MONTH,
    PAGE,
    TWO_HOURS,
    Probe,
    Question,
    Shot,
    in_window,
    judge,
    questions,
    verdict,
)
from dataset import CAMERAS, generate_events
from report import graph_footprint, summary

from labelgraph_contract import ImageLabeled
from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import publish_events

TOPIC = "api-bench"
KEY = "bench-key"
HEADERS = {"X-API-Key": KEY}
SIZES = "20000,100000,214000"
# Slow routes must measure rather than fail: the api cancels a query only after this long.
QUERY_TIMEOUT_SECONDS = 120
PUBLISH_SLICE = 50_000  # events held in memory at once while publishing
MIN_REQUESTS = 5  # asked of every question, even one that spent its time budget
WALK_LIMIT = 500  # the api's largest page: a deep cursor in few requests
SEED = 42


def ask(client: httpx.Client, probe: Probe) -> tuple[float, str, Any]:
    """One request: seconds, status ("200", "504", "timeout"...), the JSON body of a 200."""
    started = time.perf_counter()
    try:
        response = client.request(probe.method, probe.path, params=probe.params,
                                  json=probe.body)
    except httpx.TimeoutException:
        return time.perf_counter() - started, "timeout", None
    seconds = time.perf_counter() - started
    return seconds, str(response.status_code), response.json() if response.is_success else None


def measure(client: httpx.Client, asked: dict[str, Question], requests: int,
            budget: float) -> dict[str, Any]:
    """Each question `requests` times, interleaved; one that spent `budget` s stops early."""
    first = {name: _first(client, question) for name, question in asked.items()}
    answers: dict[str, list[tuple[float, str]]] = {name: [] for name in asked}
    for number in range(requests):
        for name, question in asked.items():
            spent = sum(seconds for seconds, _ in answers[name])
            if number < MIN_REQUESTS or spent < budget:
                seconds, status, _ = ask(client, question.ask(number))
                answers[name].append((seconds, status))
    return {name: first[name] | summary([s for s, status in done if status == "200"])
            | {"statuses": dict(Counter(status for _, status in done))}
            for name, done in answers.items()}


def _first(client: httpx.Client, question: Question) -> dict[str, Any]:
    """A warm-up request (driver pool, query plans) whose answer is checked against the data."""
    probe = question.ask(0)
    seconds, status, body = ask(client, probe)
    result: dict[str, Any] = {"route": question.route or f"{probe.method} {probe.path}",
                              "first_ms": round(seconds * 1000, 1), "first_status": status}
    if question.answer is not None and body is not None:
        result["answer_as_expected"] = question.answer(body) == question.expected
    return result


def cursor_after(client: httpx.Client, depth: int) -> dict[str, Any]:
    """The cursor past the newest `depth` images, walked WALK_LIMIT at a time."""
    cursor, walked, started = None, 0, time.perf_counter()
    requests = 0
    while walked < depth:
        limit = min(WALK_LIMIT, depth - walked)
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        _, status, body = ask(client, Probe("GET", "/images", params))
        requests += 1
        if body is None or body["next_cursor"] is None:
            return {"cursor": None, "failed_at": walked, "status": status}
        cursor, walked = body["next_cursor"], walked + limit
    return {"cursor": cursor, "requests": requests,
            "seconds": round(time.perf_counter() - started, 1)}


def wait_loaded(client: httpx.Client, services: ServiceProcesses, expected: int,
                timeout: float) -> None:
    """Until /cameras counts `expected` images; fails if a service dies or time runs out."""
    def loaded() -> bool:
        codes = {name: process.exit_code() for name, process in services.processes.items()}
        if any(code is not None for code in codes.values()):
            raise RuntimeError(f"a service exited while the graph was built: {codes}")
        _, _, body = ask(client, Probe("GET", "/cameras"))
        return body is not None and sum(row["images"] for row in body) >= expected

    wait_for(loaded, timeout, interval=2, what=f"graph at {expected} images")


def wait_folded(stack: EmbeddedStack, timeout: float) -> None:
    """Until the cameras' registries hold no unfolded day: the graph as production holds it
    once days have settled (long questions read shards, not a build's fresh days)."""
    from neo4j import GraphDatabase  # the bench's one direct read of the graph

    env = stack.env
    keys = [json.dumps(["unfolded", camera], separators=(",", ":")) for camera in CAMERAS]
    with GraphDatabase.driver(env["NEO4J_URI"],
                              auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"])) as driver:
        def folded() -> bool:
            records, _, _ = driver.execute_query(
                "UNWIND $keys AS key MATCH (tally:Tally {tally_key: key}) "
                "RETURN tally.dates AS dates", keys=keys, database_=env["NEO4J_DATABASE"])
            return not any(record["dates"] for record in records)

        wait_for(folded, timeout, interval=5, what="every settled day folded")


def publish(bootstrap: str | None, events: Iterator[ImageLabeled], count: int,
            shots: list[Shot]) -> int:
    """Publish the next `count` events (bootstrap None: only take them, the graph holds
    them already), keeping their Shots; returns their label rows."""
    rows = 0
    while count > 0:
        part = list(itertools.islice(events, min(PUBLISH_SLICE, count)))
        count -= len(part)
        if bootstrap is not None:
            # The topic exists after the first call: the broker's "already exists" answer
            # is returned, not raised, and the events are appended to it.
            asyncio.run(publish_events(bootstrap, TOPIC, part, partitions=6))
        shots.extend(Shot(e.event_ts, e.object_key, any(lb.name == "Person" for lb in e.labels))
                     for e in part)
        rows += sum(len(e.labels) for e in part)
    return rows


class Bench:
    """One stack, the graph-writer and the api, and the graph grown size by size."""

    def __init__(self, stack: EmbeddedStack, services: ServiceProcesses,
                 args: argparse.Namespace) -> None:
        self.stack, self.services, self.args = stack, services, args
        self.events = generate_events(max(args.sizes), seed=SEED)
        self.shots: list[Shot] = []
        self.label_rows = 0
        self.reviewed: set[str] = set()

    def grow_to(self, size: int, first: bool) -> float:
        """Publish the images up to `size` and wait until the api serves them all; seconds."""
        started = time.monotonic()
        bootstrap = self.stack.env["KAFKA_BOOTSTRAP_SERVERS"]
        count = size - len(self.shots)
        if self.args.measure_only:  # a replay of one event makes the topic; the graph has all
            self.label_rows += publish(bootstrap, self.events, 1, self.shots)
            self.label_rows += publish(None, self.events, count - 1, self.shots)
        else:
            self.label_rows += publish(bootstrap, self.events, count, self.shots)
        if first:  # the services start on a topic that exists
            self.services.start(names=("graph-writer", "api"))
        with self.client() as client:
            # At least 100 images/s, far below the ~800 measured, before giving up.
            wait_loaded(client, self.services, size, timeout=600 + size / 100)
        wait_folded(self.stack, timeout=600 + size / 1_000)
        return time.monotonic() - started

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.services.api_url, headers=HEADERS,
                            timeout=QUERY_TIMEOUT_SECONDS + 30)

    def review(self, count: int, seed: str) -> list[tuple[str, bool]]:
        """Verdicts on images nobody judged yet, from the whole history so far."""
        fresh = [shot for shot in self.shots if shot.object_key not in self.reviewed]
        targets = judge(fresh, count, seed)
        self.reviewed.update(key for key, _ in targets)
        return targets

    def at_size(self, size: int, first: bool) -> dict[str, Any]:
        load_before = os.getloadavg()
        build = self.grow_to(size, first)
        with self.client() as client:
            result: dict[str, Any] = {"images": size, "label_rows": self.label_rows,
                                      "build_seconds": round(build, 1)}
            if first:  # verdicts for /accuracy and the review queue, the same at every size
                bulk = [ask(client, verdict(*t)) for t in self.review(self.args.reviews, "bulk")]
                result["bulk_verdicts"] = summary([s for s, status, _ in bulk if status == "200"])
            result |= self.measure_size(client, size)
        return result | {"reviewed": len(self.reviewed), "load_before": load_before,
                         "load_after": os.getloadavg(), **graph_footprint(self.stack)}

    def measure_size(self, client: httpx.Client, size: int) -> dict[str, Any]:
        pages = [page for page in (20, self.args.deep_page) if size >= page * PAGE]
        walks = {page: cursor_after(client, (page - 1) * PAGE) for page in pages}
        cursors = {page: walk["cursor"] for page, walk in walks.items() if walk["cursor"]}
        targets = self.review(self.args.requests, f"put:{size}")
        asked = questions(self.shots, cursors, targets, seed=size)
        return {"window_images": {"2 hours": len(in_window(self.shots, TWO_HOURS)),
                                  "30 days": len(in_window(self.shots, ONE_MONTH))},
                "cursor_walks": {str(page): {k: v for k, v in walk.items() if k != "cursor"}
                                 for page, walk in walks.items()},
                "routes": measure(client, asked, self.args.requests, self.args.budget)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    with contextlib.ExitStack() as kept:
        state = args.graph or Path(kept.enter_context(tempfile.TemporaryDirectory()))
        # A kept graph runs on the durable stack, which starts on what its folder holds.
        stack = kept.enter_context(EmbeddedStack(state / "stack", graph_heap=args.graph_heap,
                                                 durable=args.graph is not None))
        return {**measured(stack, state, args),
                "seconds": round(time.monotonic() - began)}


def measured(stack: EmbeddedStack, state: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every size of the run, built (or found built) and measured."""
    services = ServiceProcesses(stack.env, state / "logs", extra_env={
        "LABEL_TOPIC": TOPIC, "API_KEYS": KEY,
        "API_QUERY_TIMEOUT_SECONDS": str(QUERY_TIMEOUT_SECONDS),
        # Days settle a minute after their last write, so a size's build ends folded
        # about then (the default 300 s would leave the last five minutes unfolded,
        # and a 5 s fold collides with the build's batches: deadlock retries).
        "GRAPH_WRITER_TALLY_SETTLE_SECONDS": str(args.settle),
        "GRAPH_WRITER_TALLY_FOLD_SECONDS": str(max(5, args.settle // 2))})
    try:
        bench = Bench(stack, services, args)
        sizes = {}
        for number, size in enumerate(args.sizes):
            print(f"== {size:,} images", file=sys.stderr, flush=True)
            sizes[str(size)] = bench.at_size(size, first=number == 0)
            # A size's figures as soon as it is done: a long build at the next size
            # may be stopped before the run writes api.jsonl.
            print(json.dumps({"size": size, **sizes[str(size)]}), file=sys.stderr,
                  flush=True)
    finally:
        services.__exit__(None, None, None)
    return {"sizes": sizes, "requests": args.requests, "budget_seconds": args.budget,
            "graph_heap": args.graph_heap, "settle_seconds": args.settle,
            "measure_only": args.measure_only}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or platform.machine())
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1),
            "platform": platform.platform()}


def table(result: dict[str, Any]) -> str:
    """Markdown: one row per question, p50 / p95 ms at each size, p50 growth first -> last."""
    sizes = list(result["sizes"])
    header = " | ".join(f"{int(size):,} p50 / p95" for size in sizes)
    lines = [f"| question | {header} | growth |", "|---|" + "---:|" * (len(sizes) + 1)]
    for name in result["sizes"][sizes[-1]]["routes"]:
        cells = [result["sizes"][size]["routes"].get(name) for size in sizes]
        figures = " | ".join(_cell(cell) for cell in cells)
        lines.append(f"| {name} | {figures} | {_growth(cells)} |")
    builds = " | ".join(f"{result['sizes'][s]['build_seconds']:,} s" for s in sizes)
    return "\n".join([*lines, f"| build (graph-writer, incremental) | {builds} | |"])


def _cell(route: dict[str, Any] | None) -> str:
    if route is None:
        return "-"
    failed = {s: n for s, n in route["statuses"].items() if s != "200"}
    figures = "-" if route["p50_ms"] is None else f"{route['p50_ms']:,} / {route['p95_ms']:,}"
    wrong = " (answer differs)" if route.get("answer_as_expected") is False else ""
    return figures + wrong + "".join(f" ({n}x {s})" for s, n in failed.items())


def _growth(cells: Sequence[dict[str, Any] | None]) -> str:
    first, last = cells[0], cells[-1]
    if len(cells) < 2 or first is None or last is None:
        return "-"
    if not first["p50_ms"] or last["p50_ms"] is None:
        return "-"
    return f"{last['p50_ms'] / first['p50_ms']:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--sizes", type=_sizes, default=_sizes(SIZES),
                        help=f"graph sizes in images, comma-separated (default {SIZES})")
    parser.add_argument("--requests", type=int, default=40, help="requests per question")
    parser.add_argument("--budget", type=float, default=60,
                        help="seconds per question and size before it stops early")
    parser.add_argument("--reviews", type=int, default=1_000,
                        help="verdicts recorded at the first size")
    parser.add_argument("--deep-page", type=int, default=1_000,
                        help="the deep page asked by cursor, where the graph holds it")
    parser.add_argument("--graph-heap", default="3g", help="ArcadeDB's -Xmx")
    parser.add_argument("--settle", type=int, default=60,
                        help="seconds a day rests unwritten before the writer folds it")
    parser.add_argument("--graph", type=Path,
                        help="build in this directory and keep it (default: a temporary one)")
    parser.add_argument("--measure-only", action="store_true",
                        help="the --graph directory holds the largest size already: measure it "
                             "(with the code as it is now) without publishing its images")
    args = parser.parse_args()
    if args.measure_only and (args.graph is None or len(args.sizes) != 1):
        parser.error("--measure-only measures one size in a kept --graph directory")
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              **run(args)}
    args.output.mkdir(parents=True, exist_ok=True)
    with (args.output / "api.jsonl").open("a") as out:
        out.write(json.dumps(result) + "\n")
    print(table(result))
    print(f"\n{result['date']}, {result['machine']['cpu']}, {result['machine']['cores']} cores; "
          f"whole run {result['seconds']} s; details in {args.output / 'api.jsonl'}")


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(size) for size in text.split(",")})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive image counts")
    return sizes


if __name__ == "__main__":
    main()
