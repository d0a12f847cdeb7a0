"""Loopback ports: pick free ones, refuse taken ones."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from labelgraph_devstack.errors import PortInUseError

HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel considers free right now."""
    # Hold every socket until all are picked, or the kernel may hand one out twice.
    with ExitStack() as sockets:
        ports = []
        for _ in range(count):
            sock = sockets.enter_context(socket.socket())
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def free_port() -> int:
    """One port the kernel considers free right now."""
    (port,) = free_ports(1)
    return port


@contextmanager
def held_port() -> Iterator[int]:
    """A port that is taken (bound and listening here) until the block ends, for tests of
    what a server does when its port is someone else's."""
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        yield holder.getsockname()[1]


def ensure_free(component: str, port: int) -> None:
    with socket.socket() as sock:
        # As the servers do: a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise PortInUseError(component, port) from None
