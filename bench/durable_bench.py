"""Issue 23's targets on the durable embedded stack, run as `make run` runs it
(`python -m labelgraph_demo`: ministack, dynalite, Tansu on S3, ArcadeDB, the three services,
the demo's 120 photographs and its three detectors):

(a) a camera owner's stills (the photographs of samples/photos, each under many capture
    times) imported with the importer, and labelled: images per second until the api
    (/detectors) shows each detector's labelling of every one;
(b) the demo stopped as Ctrl-C stops it, then started again on the same state with those
    images and verdicts in it: ready in at most the first start's time, with nothing
    labelled again (label rows per detector and the labeler's labelled counter compared).

    python bench/durable_bench.py --output bench-output [--images 1000] [--verdicts 200]

Every port is free-picked by the demo (nothing fixed), so it runs beside other stacks. The
state lives in a temporary folder, deleted at the end; its size per 1,000 imported images
is measured once the first run has stopped.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from report import record, run_facts

from labelgraph_contract import label_table_name
from labelgraph_demo.samples import CAMERA_ZONE, DEMO_DETECTORS, PHOTOS
from labelgraph_devstack.clients import aws_client
from labelgraph_devstack.polling import wait_for

CAMERA = "owner"
DEMO_IMAGES = 120  # what `make run` uploads beside the owner's
DETECTORS = [entry.split("=")[0] for entry in DEMO_DETECTORS.split(",")]
GUIDE_API = re.compile(r"^\s*API\s+(http://\S+)\s*$")
LABELLED_METRIC = re.compile(r'^labeler_images_labeled_total\{detector="([^"]+)"\} (\S+)$')
RECONCILED_AT_START = "reconcile at start since"


class Demo:
    """`python -m labelgraph_demo` on one state folder, as `make run` starts it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.process: subprocess.Popen[str] | None = None
        self.api = ""
        self.ready_seconds = 0.0

    def start(self) -> Demo:
        began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "labelgraph_demo", "--state-dir", str(self.state_dir)],
            stdout=subprocess.PIPE, stderr=(self.state_dir / "demo.log").open("a"), text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:  # the guide is printed once every image is served
            found = GUIDE_API.match(line)
            if found:
                self.api, self.ready_seconds = found.group(1), time.monotonic() - began
                # Drain the rest of the guide, so the demo never blocks on a full pipe.
                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return self
        raise RuntimeError(f"the demo ended before it was ready: {self.state_dir}/demo.log")

    @property
    def env(self) -> dict[str, str]:
        """The running stack's stack.env (KEY=shell-quoted value lines)."""
        lines = (self.state_dir / "stack.env").read_text().splitlines()
        return {key: shlex.split(value)[0] for key, _, value in
                (line.partition("=") for line in lines if "=" in line)}

    def stop(self) -> None:
        """As Ctrl-C stops it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(120)


def write_stills(folder: Path, count: int) -> None:
    """The photographs in turn under a capture time 7 minutes apart back from now, named as
    cameras name stills: `count` stills over the last days (hard links, no copies)."""
    folder.mkdir(parents=True)
    photos = sorted(PHOTOS.glob("*.jpg"))
    now = datetime.now(CAMERA_ZONE).replace(microsecond=0)
    for n in range(count):
        stamp = now - timedelta(minutes=7 * n + 1)
        (folder / f"{CAMERA}_{stamp:%Y%m%d-%H%M%S}.jpg").hardlink_to(photos[n % len(photos)])


def images_by_detector(api: str) -> dict[str, int]:
    listed = httpx.get(f"{api}/detectors", timeout=30).json()["detectors"]
    return {entry["detector"]: entry["images"] for entry in listed}


def import_and_label(demo: Demo, stills: Path, count: int) -> dict[str, Any]:
    """Run the importer on the stills; seconds until the api shows each detector's
    labelling of every one, and the images per second that makes."""
    before = images_by_detector(demo.api)
    began = time.monotonic()
    importer = subprocess.Popen([sys.executable, "-m", "labelgraph_importer", "--camera",
                                 CAMERA, str(stills)], env=demo.env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    visible: dict[str, float] = {}
    imported_seconds = None

    def every_detector_done() -> bool:
        nonlocal imported_seconds
        if imported_seconds is None and importer.poll() is not None:
            imported_seconds = time.monotonic() - began
        served = images_by_detector(demo.api)
        for name in DETECTORS:
            if name not in visible and served.get(name, 0) >= before.get(name, 0) + count:
                visible[name] = time.monotonic() - began
        return len(visible) == len(DETECTORS) and imported_seconds is not None

    wait_for(every_detector_done, 3600, interval=1, what="every still labelled")
    assert importer.stdout is not None
    return {"import_seconds": round(imported_seconds or 0, 1),
            "importer_summary": importer.stdout.read().strip().splitlines()[0],
            "visible_seconds": {name: round(seconds, 1) for name, seconds in visible.items()},
            "images_per_second": {name: round(count / seconds, 2)
                                  for name, seconds in visible.items()}}


def record_verdicts(demo: Demo, count: int) -> int:
    s3, bucket = aws_client(demo.env, "s3"), demo.env["IMAGE_BUCKET"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                          Prefix=f"alarms/{CAMERA}/")
    keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))[:count]
    with httpx.Client(base_url=demo.api, timeout=30) as client:
        for n, key in enumerate(keys):
            client.put("/verdicts", json={"object_key": key, "label": "Person",
                                          "present": n % 2 == 0,
                                          "reviewer": "bench"}).raise_for_status()
    return len(keys)


def label_rows(env: dict[str, str]) -> dict[str, int]:
    dynamodb = aws_client(env, "dynamodb")
    return {name: _count(dynamodb, label_table_name(env["LABEL_TABLE"], name))
            for name in DETECTORS}


def verdict_count(env: dict[str, str]) -> int:
    return _count(aws_client(env, "dynamodb"), env["VERDICT_TABLE"])


def _count(dynamodb: Any, table: str) -> int:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def labelled_by_this_labeler(demo: Demo) -> dict[str, float]:
    """labeler_images_labeled_total of the running labeler, by detector."""
    text = httpx.get(f"{demo.env['LABELER_OPS_URL']}/metrics", timeout=10).text
    return {found.group(1): float(found.group(2)) for line in text.splitlines()
            if (found := LABELLED_METRIC.match(line))}


def reconcile_reports(state_dir: Path) -> int:
    """How many reconciles at start have reported in the labeler's log (appended to at every
    start, so each start adds one)."""
    log = state_dir / "logs" / "labeler.log"
    return log.read_text().count(RECONCILED_AT_START) if log.exists() else 0


def size_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def state_sizes(state: Path) -> dict[str, int]:
    """The state folder's bytes by part, read with the stack stopped (ArcadeDB and Tansu
    shrink their files on a graceful stop)."""
    objects = state / "s3" / "000000000000"
    topic = size_bytes(objects / "devstack-tansu")
    return {"total": size_bytes(state), "images (s3)": size_bytes(objects) - topic,
            "topic (s3)": topic, "tables (dynamodb)": size_bytes(state / "dynamodb"),
            "graph (arcadedb)": size_bytes(state / "arcadedb")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--verdicts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="durable-bench-") as tmp:
        root = Path(tmp)
        write_stills(root / "stills", args.images)
        state_dir = root / "devstack"
        state_dir.mkdir()
        result = run(state_dir, root / "stills", args.images, args.verdicts)
        shutil.rmtree(state_dir, ignore_errors=True)
    record(args.output, "durable", {**run_facts(), **result})


def run(state_dir: Path, stills: Path, images: int, verdicts: int) -> dict[str, Any]:
    first = Demo(state_dir).start()
    try:
        labelling = import_and_label(first, stills, images)
        judged = record_verdicts(first, verdicts)
        wait_for(lambda: reconcile_reports(state_dir) == 1, 600, interval=1,
                 what="the first start's reconcile")
        rows_before = label_rows(first.env)
        labelled_first = labelled_by_this_labeler(first)
    finally:
        first.stop()
    sizes = state_sizes(state_dir / "state")
    stored = images + DEMO_IMAGES
    second = Demo(state_dir).start()
    try:
        wait_for(lambda: reconcile_reports(state_dir) == 2, 600, interval=1,
                 what="the second start's reconcile")
        rows_after, verdicts_after = label_rows(second.env), verdict_count(second.env)
        labelled_second = labelled_by_this_labeler(second)
    finally:
        second.stop()
    return {
        "images_imported": images, "verdicts_recorded": judged, **labelling,
        "first_run_ready_seconds": round(first.ready_seconds, 1),
        "second_run_ready_seconds": round(second.ready_seconds, 1),
        "label_rows_before_stop": rows_before, "label_rows_after_second_start": rows_after,
        "labelled_by_first_labeler": labelled_first,
        "labelled_by_second_labeler": labelled_second,
        "verdicts_after_second_start": verdicts_after,
        "images_stored": stored, "state_bytes": sizes,
        "state_bytes_per_1000_images": {part: round(size * 1000 / stored)
                                        for part, size in sizes.items()},
    }


if __name__ == "__main__":
    main()
