"""`python -m labelgraph_api [serve|restore-verdicts|adopt-graph-verdicts|export]`: the api."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import boto3
import uvicorn

from labelgraph_api.adapters.graph import GraphSession, open_driver
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.adapters.s3 import S3ImageReader, reading_client
from labelgraph_api.adapters.verdict_graph import VerdictProjection
from labelgraph_api.adapters.verdict_table import VerdictTable
from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings, KeysMissing
from labelgraph_api.handlers import export, verdicts
from labelgraph_api.ports import VerdictGraph, VerdictStore
from labelgraph_api.training_set import FORMATS
from labelgraph_observability import configure_logging

PROGRESS_EVERY = 100
Maintenance = Callable[[VerdictGraph, VerdictStore], Awaitable[int]]
MAINTENANCE: dict[str, Maintenance] = {
    "restore-verdicts": verdicts.restore_verdicts,
    "adopt-graph-verdicts": verdicts.adopt_graph_verdicts,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-api", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", *MAINTENANCE, "export"],
        help="serve (default): the HTTP api; restore-verdicts: project every verdict of the "
        "verdict table into the graph (the api also does it at start); adopt-graph-verdicts: "
        "copy verdicts only a graph from before the verdict table holds into the table; "
        "export: the reviewed images of a scope as a training set, into --out")
    _export_options(parser.add_argument_group("export"))
    arguments = parser.parse_args()
    command = arguments.command
    configure_logging("api")
    settings = ApiSettings()  # type: ignore[call-arg]
    if command == "serve":
        _serve(settings)
        return
    if command == "export":
        sys.exit(asyncio.run(_export(settings, arguments)))
    count = asyncio.run(_maintain(settings, MAINTENANCE[command]))
    print(f"{command}: {count} verdicts")


def _export_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--out", type=Path, help="folder to write (new or empty)")
    group.add_argument("--format", choices=FORMATS, default="coco")
    group.add_argument("--label", default="Person", help="label judged (default Person)")
    group.add_argument("--camera", action="append", help="camera; repeat for several")
    group.add_argument("--since", type=_moment, help="ISO 8601 with offset, inclusive")
    group.add_argument("--until", type=_moment, help="ISO 8601 with offset, exclusive")
    group.add_argument("--detector", help="only this detector's boxes")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset")
    return moment


async def _export(settings: ApiSettings, arguments: argparse.Namespace) -> int | str:
    """Write the export into a new or empty folder, reporting progress on stderr."""
    out: Path | None = arguments.out
    if out is None or (out.exists() and any(out.iterdir())):
        return "export needs --out, a folder that is new or empty"
    driver = open_driver(settings)
    try:
        reads = CypherReads(GraphSession(driver, settings.neo4j_database,
                                         settings.query_timeout_seconds))
        plan = await export.plan_export(
            reads, label=arguments.label, cameras=arguments.camera, since=arguments.since,
            until=arguments.until, detector=arguments.detector)
    finally:
        await driver.close()
    print(f"export: {len(plan.items)} images ({plan.positives} positives, {plan.negatives} "
          f"negatives; {plan.unboxed} positives without boxes left out)", file=sys.stderr)
    session = boto3.session.Session()
    images = S3ImageReader(reading_client(session, settings.aws_default_region),
                           settings.image_bucket)
    out.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(export.write_folder,
                            export.members(plan, arguments.format, images, _report), out)
    print(f"export: {out}", file=sys.stderr)
    return 0


def _report(done: int, total: int) -> None:
    if done % PROGRESS_EVERY == 0 or done == total:
        print(f"export: {done}/{total} images", file=sys.stderr)


def _serve(settings: ApiSettings) -> None:
    try:
        app = create_app(settings)
    except KeysMissing as error:
        sys.exit(str(error))
    # Access lines come from our middleware, as JSON with the route and duration. Proxy
    # headers are the app's to read (API_TRUSTED_PROXIES): uvicorn's own reading would
    # trust any loopback peer, or whatever FORWARDED_ALLOW_IPS says.
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, access_log=False,
                log_config=None, proxy_headers=False)


async def _maintain(settings: ApiSettings, task: Maintenance) -> int:
    driver = open_driver(settings)
    try:
        graph = VerdictProjection(GraphSession(driver, settings.neo4j_database,
                                               settings.query_timeout_seconds))
        await graph.ensure_schema()
        client = boto3.session.Session().client("dynamodb",
                                                region_name=settings.aws_default_region)
        return await task(graph, VerdictTable(client, settings.verdict_table))
    finally:
        await driver.close()


if __name__ == "__main__":
    main()
