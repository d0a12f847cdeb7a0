"""Local detectors: images per second and CPU ms per image of the SSD and of HOG, on one
core and with the labeler's concurrency, on the committed photographs.

    python bench/detector_bench.py --output bench-output [--rounds 2] [--concurrency 8]

Each detector is called as the labeler calls it: `detect(ImageSource)` (decoding included)
from a thread pool of LABELER_CONCURRENCY threads. Three ways of using the cores:
- one-core: one model instance, cv2.setNumThreads(1), one caller;
- opencv-threads: one instance (workers=1) and OpenCV's own threads, the callers queueing
  for it;
- pool: load(workers=concurrency), one instance a core, cv2.setNumThreads(1) (the design).
CPU is this process's user+system time. Models are loaded and warmed before the clock runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
from report import record, run_facts

from labelgraph_labeler.adapters.hog import HogPeopleDetector
from labelgraph_labeler.adapters.ssd_mobilenet import SsdMobileNetDetector
from labelgraph_labeler.domain import Detector, ImageSource

PHOTOS = Path(__file__).resolve().parents[1] / "samples" / "photos"
LOADERS: dict[str, Callable[..., Detector]] = {
    "ssd-mobilenet-v2-coco": SsdMobileNetDetector.load,
    "opencv-hog": HogPeopleDetector.load,
}


def images(rounds: int) -> list[ImageSource]:
    contents = [(path.name, path.read_bytes()) for path in sorted(PHOTOS.glob("*.jpg"))]
    return [ImageSource("bench", name, lambda content=content: content)
            for _ in range(rounds) for name, content in contents]


def measure(detector: Detector, work: list[ImageSource], callers: int) -> dict[str, float]:
    detector.detect(work[0])  # warm: the first forward pass allocates the net's buffers
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(detector.detect, work))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"images": len(work), "seconds": round(wall, 2),
            "images_per_second": round(len(work) / wall, 2),
            "cpu_ms_per_image": round(cpu * 1000 / len(work), 1),
            "cpu_cores": round(cpu / wall, 2)}


def run_mode(kind: str, mode: str, work: list[ImageSource], concurrency: int) -> dict[str, Any]:
    load = LOADERS[kind]
    if mode == "pool":
        detector = load(max_labels=10, min_confidence=0, workers=concurrency)
        callers = concurrency
    else:
        cv2.setNumThreads(1 if mode == "one-core" else os.cpu_count() or 1)
        detector = load(max_labels=10, min_confidence=0, workers=1)
        callers = 1 if mode == "one-core" else concurrency
    figures = measure(detector, work, callers)
    return {"detector": kind, "mode": mode, "callers": callers,
            "opencv_threads": cv2.getNumThreads(), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("bench-output"))
    parser.add_argument("--rounds", type=int, default=2, help="passes over the photographs")
    parser.add_argument("--concurrency", type=int,
                        default=int(os.environ.get("LABELER_CONCURRENCY", "8")))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    work = images(args.rounds)
    runs = []
    for kind in LOADERS:
        for mode in ("one-core", "opencv-threads", "pool"):
            runs.append(run_mode(kind, mode, work, args.concurrency))
            print(json.dumps(runs[-1]), flush=True)
    result = {"benchmark": "detectors", "runs": runs, "photos": len(work) // args.rounds,
              "opencv": cv2.__version__,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
              **run_facts()}
    record(args.output, "detectors", result)


if __name__ == "__main__":
    main()
