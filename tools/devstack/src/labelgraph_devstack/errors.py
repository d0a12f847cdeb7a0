"""Why the stack could not start, stop or be found, each with what to do about it."""

from __future__ import annotations

from pathlib import Path


class DevstackError(Exception):
    """Base class: the message is meant for a person at a terminal."""


class MissingDependencyError(DevstackError):
    """A package or binary a component needs is not installed."""


class PortInUseError(DevstackError):
    def __init__(self, component: str, port: int) -> None:
        super().__init__(
            f"port {port} for {component} is already in use on 127.0.0.1: "
            "free it or choose another port"
        )


class ComponentStartError(DevstackError):
    def __init__(self, component: str, port: int, reason: str, log: Path, tail: str) -> None:
        super().__init__(
            f"{component} failed to start on 127.0.0.1:{port}: {reason}\n"
            f"--- last lines of {log} ---\n{tail}"
        )
        self.component = component


class StackLockedError(DevstackError):
    """Another process runs a stack on the same state directory."""


class NoStackRunningError(DevstackError):
    """No stack runs on the state directory asked about."""
