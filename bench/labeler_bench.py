"""Labeler: images per second through the whole labeler (SQS -> S3 -> DetectLabels on the
stub -> DynamoDB -> Kafka -> delete), and the CPU it costs, at several concurrencies.

    python bench/labeler_bench.py --output bench-output [--images 600]

For each concurrency the images are queued first, then `labeler run` starts as a real
process; the rate is measured from its first labelled image to its last (start-up is
excluded), and CPU from /proc for the labeler and, separately, for the stand-ins.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from dataset import CAMERA_ZONE, generate_events

from labelgraph_demo.loading import aws_client
from labelgraph_demo.samples import draw_scene
from labelgraph_demo.services import ServiceProcesses, free_port
from labelgraph_devstack import EmbeddedStack
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
    return next((float(line.split()[1]) for line in text.splitlines()
                 if line.startswith("labeler_images_labeled_total ")), 0)


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
            logs: Path) -> dict[str, Any]:
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
        began, cpu0, stack0 = time.monotonic(), cpu_seconds(pid), _stack_cpu(stack)
        while (done := labelled_so_far(ops)) < images:
            time.sleep(0.05)
        wall = time.monotonic() - began
        cpu, stack_cpu = cpu_seconds(pid) - cpu0, _stack_cpu(stack) - stack0
    finally:
        services.__exit__(None, None, None)  # stops it and its spawner
    rate = (done - first) / wall
    return {"concurrency": concurrency, "images_per_second": round(rate, 1),
            "labeler_cpu_cores": round(cpu / wall, 2),
            "images_per_labeler_cpu_second": round((done - first) / cpu, 1),
            "stand_ins_cpu_cores": round(stack_cpu / wall, 2), "images": images}


def _stack_cpu(stack: EmbeddedStack) -> float:
    return sum(cpu_seconds(pid) for pid in stack.pids.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, EmbeddedStack(Path(state)) as stack:
        teach(stack)
        runs = [measure(stack, run, concurrency, args.images, Path(state) / "logs")
                for run, concurrency in enumerate(CONCURRENCIES)]
    best = max(runs, key=lambda r: r["images_per_second"])
    result = {"benchmark": "labeler", "runs": runs, "best": best,
              "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{os.cpu_count()} cpus, {platform.platform()}, shared"}
    print(json.dumps(result, indent=2))
    args.output.mkdir(parents=True, exist_ok=True)
    with (args.output / "labeler.jsonl").open("a") as out:
        out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
