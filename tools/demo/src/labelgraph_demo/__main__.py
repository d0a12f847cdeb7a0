"""`python -m labelgraph_demo` (make run): the whole pipeline with sample images.

Starts the durable embedded stack and the three services, uploads the real photographs of
samples/photos as camera images, has three detectors label each (a Rekognition stand-in and
two real models), waits until the api serves every labelling, prints where to look, and
stops everything on Ctrl-C. Everything stays in <state-dir>/state/: a second run uploads
only the demo images not stored yet, and `make reset` starts from nothing.
`python -m labelgraph_demo ground-truth --api URL` then records the verdicts from
truth.json at once, so the accuracy page compares the three, leaving the porch camera's
images for the user to judge on /ui/review (`--all` records those too).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from labelgraph_demo.loading import (
    GROUND_TRUTH_FILE,
    load_ground_truth,
    provision_detectors,
    teach_stub,
    upload,
    write_ground_truth,
)
from labelgraph_demo.resume import demo_began, not_stored, stored_keys
from labelgraph_demo.samples import DEMO_DETECTORS, LEFT_FOR_YOU, STAND_IN, make_samples
from labelgraph_devstack import EmbeddedStack, envfile
from labelgraph_devstack.clients import aws_client
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceDied, ServiceProcesses

log = logging.getLogger("labelgraph_demo")


class ServiceWatch(Protocol):
    """What the waits need of the service processes: whether one has died."""

    def raise_if_exited(self) -> None: ...


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".devstack"))
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="the whole pipeline on the photographs (default)")
    run.add_argument("--images", type=int, default=120, help="camera images to upload")
    truth = commands.add_parser("ground-truth", help="record every sample's verdict")
    truth.add_argument("--api", required=True, help="the running api's URL")
    truth.add_argument("--key", help="an API key, if the api wants one")
    truth.add_argument("--all", action="store_true",
                       help=f"judge the {LEFT_FOR_YOU} camera's images too (by default they "
                            "are left for you to judge on /ui/review)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
    if args.command == "ground-truth":
        leave = None if args.all else LEFT_FOR_YOU
        count = load_ground_truth(args.api, args.state_dir / GROUND_TRUTH_FILE, args.key,
                                  leave_camera=leave)
        log.info("recorded %d verdicts: see %s/ui/accuracy", count, args.api)
        if leave:
            log.info("the %s camera's images are left for you: %s/ui/review?camera=%s "
                     "(--all judges them too)", leave, args.api, leave)
        return
    try:
        run_demo(args.state_dir, getattr(args, "images", 120))
    except ServiceDied as died:
        log.error("stopped: %s", died)
        raise SystemExit(1) from None


def run_demo(state_dir: Path, images: int) -> None:
    """Everything up, the photographs through the pipeline, then wait for Ctrl-C."""
    began = time.monotonic()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with EmbeddedStack(state_dir, durable=True) as stack:
        env = {**stack.env, "LABELER_DETECTORS": DEMO_DETECTORS}
        provision_detectors(env)
        # A local demo: the api's key check is off, and the guide says so.
        with ServiceProcesses(env, state_dir / "logs",
                              extra_env={"API_INSECURE_NO_AUTH": "true"}) as services:
            # Named, not set: a second labeler started from a shell that loaded stack.env
            # would otherwise try the same ops port.
            envfile.write(stack.env_file, {**stack.env, **services.ops_urls})
            samples = make_samples(demo_began(stack.layout.root, datetime.now(UTC)), images)
            # The stub forgets its rules at each stop: an image labelled later needs them.
            teach_stub(env["REKOGNITION_STUB_URL"], samples)
            new = not_stored(samples, stored_keys(aws_client(env, "s3"), env["IMAGE_BUCKET"]))
            upload(env, new)
            write_ground_truth(state_dir / GROUND_TRUTH_FILE, samples)
            log.info("uploaded %d camera images (%d stored by an earlier run); waiting for "
                     "every detector's labels", len(new), len(samples) - len(new))
            _wait_until_labelled(services, len(samples))
            log.info("ready after %.0f s", time.monotonic() - began)
            _print_guide(services.api_url, services.ops_urls, state_dir, samples[0].key,
                         stack.env)
            _wait_for_stop(stop, services)
            log.info("stopping services and stack")


def _wait_for_stop(stop: threading.Event, services: ServiceWatch, interval: float = 1) -> None:
    """Until Ctrl-C or SIGTERM; a service that dies meanwhile raises ServiceDied."""
    try:
        while not stop.wait(interval):
            services.raise_if_exited()
    except KeyboardInterrupt:
        pass


class LabelledService(ServiceWatch, Protocol):
    """What the wait for the labels needs: the api's address, and whether a service died."""

    @property
    def api_url(self) -> str: ...


def _wait_until_labelled(services: LabelledService, expected: int, timeout: float = 300,
                         report_every: float = 5) -> None:
    """Until each of the three detectors' labellings of every image is in the graph; says
    how far each detector is (done / total) every `report_every` seconds while it changes."""
    names = [entry.split("=")[0] for entry in DEMO_DETECTORS.split(",")]
    seen: dict[str, int] = {}
    said: list[tuple[float, str]] = []

    def labelled() -> bool:
        services.raise_if_exited()
        try:
            listed = httpx.get(f"{services.api_url}/detectors", timeout=5).json()["detectors"]
        except httpx.TransportError:  # the api just died: the next check names it
            listed = []
        seen.clear()
        seen.update({entry["detector"]: entry["images"] for entry in listed})
        done = all(seen.get(name, 0) >= expected for name in names)
        _report_progress(said, names, seen, expected, 0 if done else report_every)
        return done

    try:
        wait_for(labelled, timeout, interval=0.5, what="every image labelled")
    except AssertionError:
        log.warning("after %ds the api has, of %d images, %s: see the logs", timeout,
                    expected, seen)


def _report_progress(said: list[tuple[float, str]], names: list[str], seen: dict[str, int],
                     expected: int, every: float) -> None:
    """One line of each detector's done / total, when it changed and `every` seconds passed
    since the last (`said` holds the last line and when it was said)."""
    line = ", ".join(f"{name} {min(seen.get(name, 0), expected)}/{expected}" for name in names)
    now = time.monotonic()
    if said and (said[-1][1] == line or now - said[-1][0] < every):
        return
    said[:] = [(now, line)]
    log.info("labelled: %s", line)


# Every address the stack listens on (each a free loopback port chosen at start), by what
# stands there and the stack.env variable that holds it.
STACK_ADDRESSES = (
    ("Kafka (Tansu)", "KAFKA_BOOTSTRAP_SERVERS"),
    ("S3, SQS, SNS (ministack)", "AWS_ENDPOINT_URL"),
    ("DynamoDB (dynalite)", "AWS_ENDPOINT_URL_DYNAMODB"),
    ("Bolt (ArcadeDB)", "NEO4J_URI"),
    ("ArcadeDB HTTP", "ARCADEDB_HTTP_URL"),
    ("Rekognition stub", "REKOGNITION_STUB_URL"),
)


def _stack_addresses(env: dict[str, str]) -> str:
    """The stack's listening addresses, one a line, aligned under the guide's headings."""
    return "\n".join(f"{'':17}{what:26}{env[name]}" for what, name in STACK_ADDRESSES
                     if name in env).lstrip()


def _print_guide(api_url: str, ops_urls: dict[str, str], state_dir: Path,
                 example_key: str, stack_env: dict[str, str]) -> None:
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
                 curl '{api_url}/accuracy/detectors?threshold=50'
  Detectors      ssd-mobilenet-v2-coco and opencv-hog are real models that looked at the
                 photographs: their accuracy is measured. {STAND_IN} is the Rekognition
                 stub answering rules made from truth.json (sure when it says Person,
                 misses about half, like the original analysis): its figures are staged.
  Ground truth   {state_dir / GROUND_TRUTH_FILE} (from samples/photos/truth.json); record
                 it at once (all but the {LEFT_FOR_YOU} camera's images, left for you to
                 judge on Review; --all records those too), then open Accuracy:
                 .venv/bin/python -m labelgraph_demo ground-truth --api {api_url}
  Workers' ops   labeler      {ops_urls["LABELER_OPS_URL"]}/metrics   (and /health, /ready)
                 graph-writer {ops_urls["GRAPH_WRITER_OPS_URL"]}/metrics
                 (in stack.env as LABELER_OPS_URL and GRAPH_WRITER_OPS_URL)
  Stack          {_stack_addresses(stack_env)}
  Stack env      {state_dir / 'stack.env'}   (source it to attach kcat, scripts, notebooks)
  Service logs   {state_dir / 'logs'}/
  Kept           {state_dir / 'state'}/ (images, labels, verdicts, topic, graph): the
                 next `make run` carries on; `make reset` deletes it, saying what first

Ctrl-C stops everything.
""", flush=True)


if __name__ == "__main__":
    main()
