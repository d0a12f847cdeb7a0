"""Readiness probes: one quick attempt each, True when the server really answers."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from labelgraph_devstack.ports import HOST

# Loopback only: a proxy from the environment (set for package registries) must not
# intercept these requests.
LOOPBACK_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def tcp_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    return 200 <= http_status(url, timeout=1.0) < 300


def http_status(url: str, timeout: float = 2.0) -> int:
    """The status a GET of url answers; 0 when nothing answers."""
    try:
        with LOOPBACK_HTTP.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:  # urllib raises for 4xx and 5xx
        return refused.code
    except (urllib.error.URLError, OSError):
        return 0


def bolt_answers(uri: str, user: str, password: str, database: str) -> bool:
    """A real query: a listening Bolt port does not mean the database is there."""
    # Imported here: the pytest plugin loads this package in every test run, and most
    # runs never start a stack.
    import neo4j
    from neo4j.exceptions import DriverError, Neo4jError

    try:
        with (
            neo4j.GraphDatabase.driver(uri, auth=(user, password), connection_timeout=1.0) as d,
            d.session(database=database) as session,
        ):
            return session.run("RETURN 1 AS ok").single(strict=True)["ok"] == 1
    except (DriverError, Neo4jError, OSError):
        return False
