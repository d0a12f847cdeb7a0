"""Labeler: images per second through the whole labeler (SQS -> S3 -> DetectLabels on the
stub -> DynamoDB -> Kafka -> delete), and the CPU it costs, at several concurrencies.

    python bench/labeler_bench.py --output bench-output [--images 400] [--concurrency 16 32]
        [--py-spy /tmp/pyspy/bin/py-spy]

With --py-spy, each concurrency is run a second time under `py-spy record` (a sampling
profiler, installed outside the project venv): its collapsed stacks are written to
OUTPUT/labeler-c<concurrency>.pyspy. The figures come from the first, unprofiled run.

For each concurrency the images are queued first, then `labeler run` starts as a real
process; the rate is measured from its first labelled image to its last (start-up is
excluded), and CPU from /proc for the labeler and, separately, for the stand-ins.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from dataset import CAMERA_ZONE, generate_events
from report import record, run_facts

from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.ports import free_port
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import aws_client, draw_scene
from labelgraph_provision.dynamodb import ensure_label_table

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONCURRENCIES = (1, 4, 8, 16, 32)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def labelled_so_far(ops_url: str) -> float:
    try:
        text = httpx.get(f"{ops_url}/metrics", timeout=2).text
    except httpx.TransportError:
        return 0
    # One sample per detector: labeler_images_labeled_total{detector="..."} N.
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("labeler_images_labeled_total{"))


def teach(stack: EmbeddedStack) -> None:
    """Every image gets ten labels shaped like the original deployment's."""
    event = next(generate_events(1, seed=3))
    labels = [{"Name": label.name, "Confidence": label.confidence} for label in event.labels]
    httpx.put(f"{stack.env['REKOGNITION_STUB_URL']}/_stub/rules", timeout=10,
              json={"model_version": "3.0", "default": {"labels": labels}, "rules": []}
              ).raise_for_status()


def queue_images(env: dict[str, str], run: int, images: int) -> None:
    s3, body = aws_client(env, "s3"), draw_scene(True, seed="bench")
    start = datetime(2016, 11, 1, tzinfo=CAMERA_ZONE)
    for index in range(images):
        local = start + timedelta(minutes=index)
        key = (f"alarms/frontdoor/{local:%Y-%m-%d}/{local:%H}/"
               f"r{run}i{index}_{local:%Y%m%d-%H%M%S}.jpg")
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=key, Body=body, ContentType="image/jpeg")


def fresh_table(env: dict[str, str], run: int) -> str:
    """A new label table per run: moto's Query scans the whole table (AWS reads one
    partition), so a table filled by earlier runs would slow the later ones."""
    name = f"bench_labels_{run}"
    ensure_label_table(aws_client(env, "dynamodb"), name)
    return name


def measure(stack: EmbeddedStack, run: int, concurrency: int, images: int,
            logs: Path, profile: tuple[str, Path] | None = None) -> dict[str, Any]:
    table = fresh_table(stack.env, run)
    queue_images(stack.env, run, images)
    port = free_port()
    ops = f"http://127.0.0.1:{port}"
    extra = {"LABELER_OPS_PORT": str(port), "LABELER_CONCURRENCY": str(concurrency),
             "LABEL_TABLE": table}
    services = ServiceProcesses(stack.env, logs / f"c{concurrency}", extra_env=extra)
    services.start(names=("labeler",))
    try:
        pid = services.processes["labeler"].pid
        while (first := labelled_so_far(ops)) == 0:
            time.sleep(0.02)
        spy = _profiler(profile, pid)
        began, cpu0, stack0 = time.monotonic(), cpu_seconds(pid), _stack_cpu(stack)
        while (done := labelled_so_far(ops)) < images:
            time.sleep(0.05)
        wall = time.monotonic() - began
        cpu, stack_cpu = cpu_seconds(pid) - cpu0, _stack_cpu(stack) - stack0
        if spy:
            spy.send_signal(2)  # py-spy writes its stacks on SIGINT
            spy.wait(60)
    finally:
        services.__exit__(None, None, None)  # stops it and its spawner
    rate = (done - first) / wall
    return {"concurrency": concurrency, "images_per_second": round(rate, 1),
            "labeler_cpu_cores": round(cpu / wall, 2),
            "labeler_cpu_ms_per_image": round(1000 * cpu / (done - first), 2),
            "images_per_labeler_cpu_second": round((done - first) / cpu, 1),
            "stand_ins_cpu_cores": round(stack_cpu / wall, 2), "images": images}


def _profiler(profile: tuple[str, Path] | None, pid: int) -> subprocess.Popen[bytes] | None:
    """py-spy sampling every thread of the labeler until interrupted."""
    if profile is None:
        return None
    py_spy, output = profile
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "100", "--output", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Leaves where a thread waits rather than runs. py-spy's idle detection lets these through
# (a pool thread waiting for work, a thread blocked in recv), and they would drown the rest.
WAITING_LEAVES = ("_worker (concurrent/futures/thread.py", "SocketIO.readinto (socket.py",
                  "EpollSelector.select (selectors.py", "Condition.wait (threading.py")
# Where the CPU goes, by the frames a sample's stack holds (a sample can be in several).
PROFILE_AREAS = {
    "botocore": ("botocore/",),
    # The resource layer's own work (type conversion, expression building), not the
    # client call its batch writer makes.
    "boto3 DynamoDB conversion": ("boto3/dynamodb/types.py", "boto3/dynamodb/transform.py",
                                  "boto3/dynamodb/conditions.py"),
    "HTTP (urllib3, http.client)": ("urllib3/", "http/client.py"),
    "the event loop's thread (asyncio)": ("asyncio/",),
    "aiokafka": ("aiokafka/",),
    "contract and pydantic": ("labelgraph_contract/", "pydantic"),
    "logging": ("logging/", "labelgraph_observability/"),
    "prometheus": ("prometheus_client/",),
}


def profile_shares(path: Path) -> dict[str, Any]:
    """Shares of the running samples of a py-spy raw profile, by area."""
    running, shares = 0, dict.fromkeys(PROFILE_AREAS, 0)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if frames[-1].startswith(WAITING_LEAVES):
            continue
        running += int(count)
        for area, marks in PROFILE_AREAS.items():
            if any(mark in frame for frame in frames for mark in marks):
                shares[area] += int(count)
    return {"running_samples": running,
            **{area: round(n / max(running, 1), 3) for area, n in shares.items()}}


def _stack_cpu(stack: EmbeddedStack) -> float:
    return sum(cpu_seconds(pid) for pid in stack.pids.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCIES))
    parser.add_argument("--py-spy", help="py-spy executable: also profile each concurrency")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as state, EmbeddedStack(Path(state)) as stack:
        teach(stack)
        logs, runs = Path(state) / "logs", []
        for concurrency in args.concurrency:
            runs.append(measure(stack, len(runs), concurrency, args.images, logs))
            if args.py_spy:
                profile = (args.py_spy, args.output / f"labeler-c{concurrency}.pyspy")
                measure(stack, len(runs) + 1000, concurrency, args.images, logs, profile)
                runs[-1]["profile"] = profile_shares(profile[1])
    best = max(runs, key=lambda r: r["images_per_second"])
    result = {"benchmark": "labeler", "runs": runs, "best": best, **run_facts()}
    record(args.output, "labeler", result)


if __name__ == "__main__":
    main()
