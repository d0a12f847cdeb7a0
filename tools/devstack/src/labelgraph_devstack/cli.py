"""`labelgraph-devstack up | env | reset`: run the stack in the foreground, show its env file,
or delete the durable stack's state."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from labelgraph_devstack.errors import DevstackError
from labelgraph_devstack.lock import ensure_running
from labelgraph_devstack.reset import reset
from labelgraph_devstack.stack import ENV_FILE, EmbeddedStack, StackPorts, default_state_dir


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    state_dir = args.state_dir or default_state_dir()
    try:
        if args.command == "up":
            return _up(state_dir, _ports(args), args.durable)
        if args.command == "reset":
            return reset(state_dir, lambda: args.yes or _asked_yes())
        return _env(state_dir)
    except DevstackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _up(state_dir: Path, ports: StackPorts, durable: bool) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # SIGTERM takes the Ctrl-C path, so the `with` below stops every child in order.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with EmbeddedStack(state_dir, ports=ports, durable=durable) as stack:
            for title, url in stack.endpoints.items():
                print(f"  {title:<28} {url}")
            print(f"env file: {stack.env_file}")
            print(f"  load it into a shell: set -a; . {stack.env_file}; set +a")
            print(f"started in {stack.start_seconds:.1f} s; Ctrl-C stops everything", flush=True)
            while not (dead := stack.exited()):
                time.sleep(1)
            print(f"devstack: components exited on their own: {dead}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0


def _env(state_dir: Path) -> int:
    ensure_running(state_dir)
    try:
        sys.stdout.write((state_dir / ENV_FILE).read_text())
    except FileNotFoundError:
        print(f"devstack: the stack in {state_dir} is still starting", file=sys.stderr)
        return 1
    return 0


def _asked_yes() -> bool:
    """A person at a terminal says yes; without one, nothing is deleted (use --yes)."""
    if not sys.stdin.isatty():
        print("not a terminal: pass --yes (make reset YES=1) to delete", file=sys.stderr)
        return False
    return input("delete it? [y/N] ").strip().lower() in ("y", "yes")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _ports(args: argparse.Namespace) -> StackPorts:
    return StackPorts(
        kafka=args.kafka_port,
        bolt=args.bolt_port,
        arcadedb_http=args.arcadedb_http_port,
        moto=args.moto_port,
        rekognition=args.rekognition_port,
        dynamodb=args.dynamodb_port,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelgraph-devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything, wait for Ctrl-C, stop everything")
    env = commands.add_parser("env", help="print the env file of the running stack")
    wipe = commands.add_parser("reset", help="delete the durable stack's state (asks first)")
    wipe.add_argument("--yes", action="store_true", help="delete without asking")
    up.add_argument("--durable", action="store_true",
                    help="keep everything in <state-dir>/state/ across stops (as `make run`)")
    for command in (up, env, wipe):
        command.add_argument(
            "--state-dir", type=Path, help="default: $DEVSTACK_DIR or .devstack/ in the repo"
        )
    # --moto-port is the AWS port: moto's, or ministack's in the durable stack.
    for name in ("kafka", "bolt", "arcadedb-http", "moto", "rekognition", "dynamodb"):
        up.add_argument(f"--{name}-port", type=int, help="fixed port (default: a free one)")
    return parser
