"""`python -m labelgraph_api [serve|restore-verdicts|adopt-graph-verdicts]`: the api."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import boto3
import uvicorn

from labelgraph_api.adapters.graph import GraphSession, open_driver
from labelgraph_api.adapters.verdict_graph import VerdictProjection
from labelgraph_api.adapters.verdict_table import VerdictTable
from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings, KeysMissing
from labelgraph_api.handlers import verdicts
from labelgraph_api.ports import VerdictGraph, VerdictStore
from labelgraph_observability import configure_logging

Maintenance = Callable[[VerdictGraph, VerdictStore], Awaitable[int]]
MAINTENANCE: dict[str, Maintenance] = {
    "restore-verdicts": verdicts.restore_verdicts,
    "adopt-graph-verdicts": verdicts.adopt_graph_verdicts,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-api", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", *MAINTENANCE],
        help="serve (default): the HTTP api; restore-verdicts: project every verdict of the "
        "verdict table into the graph (the api also does it at start); adopt-graph-verdicts: "
        "copy verdicts only a graph from before the verdict table holds into the table")
    command = parser.parse_args().command
    configure_logging("api")
    settings = ApiSettings()  # type: ignore[call-arg]
    if command == "serve":
        _serve(settings)
        return
    count = asyncio.run(_maintain(settings, MAINTENANCE[command]))
    print(f"{command}: {count} verdicts")


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
