"""`python -m labelgraph_demo` (make run): the whole pipeline with sample images.

Starts the embedded stack and the three services, uploads generated camera images, waits
until the api serves them, prints where to look, and stops everything on Ctrl-C.
`python -m labelgraph_demo ground-truth --api URL` then records every sample's verdict at
once, so the accuracy page shows the whole curve.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from labelgraph_demo.loading import (
    GROUND_TRUTH_FILE,
    load_ground_truth,
    teach_stub,
    upload,
    write_ground_truth,
)
from labelgraph_demo.samples import make_samples
from labelgraph_demo.services import ServiceProcesses
from labelgraph_devstack import EmbeddedStack

log = logging.getLogger("labelgraph_demo")


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".devstack"))
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="the whole pipeline with sample images (default)")
    run.add_argument("--images", type=int, default=120, help="sample images to upload")
    truth = commands.add_parser("ground-truth", help="record every sample's verdict")
    truth.add_argument("--api", required=True, help="the running api's URL")
    truth.add_argument("--key", help="an API key, if the api wants one")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
    if args.command == "ground-truth":
        count = load_ground_truth(args.api, args.state_dir / GROUND_TRUTH_FILE, args.key)
        log.info("recorded %d verdicts: see %s/ui/accuracy", count, args.api)
        return
    run_demo(args.state_dir, getattr(args, "images", 120))


def run_demo(state_dir: Path, images: int) -> None:
    """Everything up, the samples through the pipeline, then wait for Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        EmbeddedStack(state_dir) as stack,
        # A local demo: the api's key check is off, and the guide says so.
        ServiceProcesses(stack.env, state_dir / "logs",
                         extra_env={"API_INSECURE_NO_AUTH": "true"}) as services,
    ):
        samples = make_samples(datetime.now(UTC), count=images)
        teach_stub(stack.env["REKOGNITION_STUB_URL"], samples)
        upload(stack.env, samples)
        write_ground_truth(state_dir / GROUND_TRUTH_FILE, samples)
        log.info("uploaded %d sample images; waiting for them in the api", len(samples))
        _wait_until_served(services.api_url, len(samples))
        _print_guide(services.api_url, state_dir, samples[0].key)
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        log.info("stopping services and stack")


def _wait_until_served(api_url: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    served = 0
    while time.monotonic() < deadline:
        cameras = httpx.get(f"{api_url}/cameras", timeout=5).json()
        served = sum(camera["images"] for camera in cameras)
        if served >= expected:
            return
        time.sleep(0.5)
    log.warning("only %d of %d images reached the api after %ds: see the logs", served,
                expected, timeout)


def _print_guide(api_url: str, state_dir: Path, example_key: str) -> None:
    print(f"""
labelgraph is running.

  Pages          {api_url}/ui/overview   (heat map; then Confidence, Images, Review,
                 Accuracy: review a few images with y / n / s and watch accuracy change)
  API            {api_url}
  API docs       {api_url}/docs
  API keys       OFF (API_INSECURE_NO_AUTH=true, for this local demo only; production
                 sets API_KEYS and callers send X-API-Key)
  Try            curl {api_url}/cameras
                 curl {api_url}/images/{example_key}
                 curl {api_url}/sightings
                 curl '{api_url}/rollups?by=hour'
                 curl {api_url}/review-queue
  Ground truth   {state_dir / GROUND_TRUTH_FILE}; record it all at once (full curve):
                 .venv/bin/python -m labelgraph_demo ground-truth --api {api_url}
  Stack env      {state_dir / 'stack.env'}   (source it to attach kcat, scripts, notebooks)
  Service logs   {state_dir / 'logs'}/

Ctrl-C stops everything.
""", flush=True)


if __name__ == "__main__":
    main()
