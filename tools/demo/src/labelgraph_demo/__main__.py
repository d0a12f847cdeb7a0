"""`python -m labelgraph_demo` (make run): the whole pipeline with sample images.

Starts the embedded stack and the three services, uploads generated camera images, waits
until the api serves them, prints where to look, and stops everything on Ctrl-C.
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

from labelgraph_demo.loading import GROUND_TRUTH_FILE, teach_stub, upload, write_ground_truth
from labelgraph_demo.samples import make_samples
from labelgraph_demo.services import ServiceProcesses
from labelgraph_devstack import EmbeddedStack

log = logging.getLogger("labelgraph_demo")


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-demo", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".devstack"))
    parser.add_argument("--images", type=int, default=120, help="sample images to upload")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        EmbeddedStack(args.state_dir) as stack,
        ServiceProcesses(stack.env, args.state_dir / "logs") as services,
    ):
        samples = make_samples(datetime.now(UTC), count=args.images)
        teach_stub(stack.env["REKOGNITION_STUB_URL"], samples)
        upload(stack.env, samples)
        write_ground_truth(args.state_dir / GROUND_TRUTH_FILE, samples)
        log.info("uploaded %d sample images; waiting for them in the api", len(samples))
        _wait_until_served(services.api_url, len(samples))
        _print_guide(services.api_url, args.state_dir, samples[0].key)
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

  API            {api_url}
  API docs       {api_url}/docs
  Try            curl {api_url}/cameras
                 curl {api_url}/images/{example_key}
  Stack env      {state_dir / 'stack.env'}   (source it to attach kcat, scripts, notebooks)
  Service logs   {state_dir / 'logs'}/

Ctrl-C stops everything.
""", flush=True)


if __name__ == "__main__":
    main()
