"""`python -m labelgraph_graph_writer run|schema|rebuild|recount`: the label topic into the
graph, and the check of its tallies."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date

from aiokafka.errors import KafkaConnectionError
from neo4j.exceptions import AuthError

from labelgraph_graph_writer.bootstrap import create_schema, rebuild, recount, serve
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.recount import Scope
from labelgraph_observability import configure_logging

log = logging.getLogger("labelgraph_graph_writer")
EXIT_REFUSED_CREDENTIALS = 2
EXIT_NO_BROKER = 3
EXIT_DIFFERENCES = 1


async def _until_signalled(command: str, settings: GraphWriterSettings,
                           idle_seconds: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if command == "rebuild":
        await rebuild(settings, stop, idle_seconds)
    else:
        await serve(settings, stop)


def _confirmed(settings: GraphWriterSettings) -> bool:
    print(f"rebuild deletes every Camera, Image, Label and time node of database "
          f"{settings.neo4j_database!r} at {settings.neo4j_uri}, then re-reads "
          f"{settings.label_topic!r} from its beginning. Stop any running graph-writer first.")
    try:
        answer = input(f"Type the database name ({settings.neo4j_database}) to go on: ")
    except EOFError:  # no terminal to ask: only --yes may go on
        return False
    return answer.strip() == settings.neo4j_database


def _report(differences: Sequence[object]) -> None:
    """Every difference on stdout, and the exit code: 1 if any."""
    for difference in differences:
        print(difference)
    print(f"{len(differences)} tallies differ from the recount of the edges")
    if differences:
        sys.exit(EXIT_DIFFERENCES)


def main() -> None:
    parser = argparse.ArgumentParser(prog="labelgraph-graph-writer", description=__doc__)
    parser.add_argument("command", choices=["run", "schema", "rebuild", "recount"],
                        help="run: consume the topic; schema: create constraints and indexes "
                        "and fill the tallies of a graph written before them; "
                        "rebuild: wipe the graph and write the whole topic again; "
                        "recount: recount the tallies from the edges, print every difference")
    parser.add_argument("--yes", action="store_true", help="rebuild without asking")
    parser.add_argument("--idle-seconds", type=float, default=10.0,
                        help="rebuild ends after the topic gives nothing for this long")
    parser.add_argument("--camera", help="recount: only this camera's tallies")
    parser.add_argument("--repair", action="store_true",
                        help="recount: rewrite each tally that differs to the recount's counts "
                        "(still exit 1: differences were found)")
    parser.add_argument("--since", type=date.fromisoformat,
                        help="recount: from this camera-local date (YYYY-MM-DD)")
    parser.add_argument("--until", type=date.fromisoformat,
                        help="recount: to this camera-local date, excluded")
    args = parser.parse_args()
    if (args.since is None) != (args.until is None):
        parser.error("recount takes --since and --until together")
    settings = GraphWriterSettings()  # type: ignore[call-arg]
    configure_logging("graph-writer", settings.log_level)
    if args.command == "rebuild" and not args.yes and not _confirmed(settings):
        sys.exit("rebuild cancelled: nothing was deleted")
    try:
        if args.command == "schema":
            asyncio.run(create_schema(settings))
        elif args.command == "recount":
            _report(asyncio.run(recount(settings, Scope(args.camera, args.since, args.until),
                                        args.repair)))
        else:
            asyncio.run(_until_signalled(args.command, settings, args.idle_seconds))
    except AuthError as error:
        # Never accepted, so not a restarting server (that is retried): the credentials.
        log.error("the graph refused the credentials at start: check NEO4J_USER and "
                  "NEO4J_PASSWORD", extra={"graph": settings.neo4j_uri, "error": error.message})
        sys.exit(EXIT_REFUSED_CREDENTIALS)
    except KafkaConnectionError as error:
        # Once running, a lost broker is waited out; at start there is nothing to resume.
        log.error("the Kafka broker is unreachable at start: check KAFKA_BOOTSTRAP_SERVERS",
                  extra={"brokers": settings.kafka_bootstrap_servers, "error": str(error)})
        sys.exit(EXIT_NO_BROKER)


if __name__ == "__main__":
    main()
