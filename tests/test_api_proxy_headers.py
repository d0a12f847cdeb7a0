"""Whose address the refused-key limiter counts, through the real api (issue 21).

X-Forwarded-For is anyone's to write. Unless the peer is one of API_TRUSTED_PROXIES (empty by
default) the limiter keys on the socket's peer address and ignores the header, so a guesser
can neither dodge the limit by varying it nor lock someone else out by naming them. Behind a
trusted proxy, the client is the right-most address of the header that is not a trusted
proxy, so two clients behind it are limited apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from labelgraph_devstack.services import ServiceProcesses

pytestmark = pytest.mark.stack

KEY = secrets.token_hex(16)
LIMIT = 4
# The test's proxies and peers are loopback addresses; its clients, documentation ones.
PROXY, SECOND_PROXY, UNTRUSTED_PEER = "127.0.0.10", "127.0.0.11", "127.0.0.12"
CLIENT_A, CLIENT_B, CLIENT_C = "198.51.100.1", "198.51.100.2", "198.51.100.3"


def serve(stack_env: dict[str, str], logs: Path, **settings: str) -> Iterator[str]:
    services = ServiceProcesses(stack_env, logs, extra_env={
        "API_KEYS": KEY, "API_KEY_FAILURE_LIMIT": str(LIMIT),
        "API_KEY_FAILURE_WINDOW_SECONDS": "600", **settings})
    services.start(names=("api",))
    try:
        yield services.api_url
    finally:
        services.stop()


@pytest.fixture
def api_trusting_nobody(stack: Any, tmp_path: Path) -> Iterator[str]:
    # uvicorn's own setting asks it to trust every peer: API_TRUSTED_PROXIES alone decides.
    yield from serve(stack.env, tmp_path, FORWARDED_ALLOW_IPS="*")


@pytest.fixture
def api_behind_proxies(stack: Any, tmp_path: Path) -> Iterator[str]:
    yield from serve(stack.env, tmp_path, API_TRUSTED_PROXIES=f"{PROXY}/31")  # .10 and .11


def status(api_url: str, peer: str, key: str, forwarded_for: str | None = None) -> int:
    """The status of GET /cameras with `key`, sent from `peer` (any 127.x is loopback)."""
    headers = {"X-API-Key": key}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    with httpx.Client(base_url=api_url, timeout=10,
                      transport=httpx.HTTPTransport(local_address=peer)) as client:
        return client.get("/cameras", headers=headers).status_code


def test_varying_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit(
        api_trusting_nobody):
    # 127.0.0.1 is the peer uvicorn trusted by default: each guess used to count elsewhere.
    guesses = [status(api_trusting_nobody, "127.0.0.1", f"guess-{n}", f"203.0.113.{n}")
               for n in range(LIMIT)]
    assert guesses == [401] * LIMIT
    assert status(api_trusting_nobody, "127.0.0.1", "one-more", "203.0.113.200") == 429
    assert status(api_trusting_nobody, "127.0.0.1", KEY, "203.0.113.201") == 429


def test_a_spoofed_forwarded_for_cannot_lock_out_the_address_it_names(api_trusting_nobody):
    victim = "127.0.0.9"
    for n in range(LIMIT + 2):
        status(api_trusting_nobody, "127.0.0.1", f"guess-{n}", victim)
    assert status(api_trusting_nobody, victim, KEY) == 200
    assert status(api_trusting_nobody, "127.0.0.1", KEY, victim) == 429  # the guesser is


def test_two_clients_behind_a_trusted_proxy_are_limited_apart(api_behind_proxies):
    for n in range(LIMIT):
        # What A wrote itself is left of what the proxy appended: A is the right-most.
        assert status(api_behind_proxies, PROXY, f"guess-{n}", f"10.9.9.{n}, {CLIENT_A}") == 401
    assert status(api_behind_proxies, PROXY, KEY, CLIENT_A) == 429
    assert status(api_behind_proxies, PROXY, KEY, CLIENT_B) == 200
    # Through two trusted proxies, the client is still the address before them.
    assert status(api_behind_proxies, PROXY, KEY, f"{CLIENT_A}, {SECOND_PROXY}") == 429
    assert status(api_behind_proxies, PROXY, KEY, f"{CLIENT_B}, {SECOND_PROXY}") == 200

    # Trusting the proxy trusts no one else: another peer's header is ignored.
    for n in range(LIMIT):
        status(api_behind_proxies, UNTRUSTED_PEER, f"guess-{n}", f"203.0.113.{n}")
    assert status(api_behind_proxies, UNTRUSTED_PEER, KEY, CLIENT_C) == 429
    assert status(api_behind_proxies, PROXY, KEY, CLIENT_C) == 200
