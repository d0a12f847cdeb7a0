"""Start, check and stop the embedded stack: Tansu, ArcadeDB, moto and the Rekognition stub."""

from labelgraph_devstack.errors import (
    ComponentStartError,
    DevstackError,
    MissingDependencyError,
    NoStackRunningError,
    PortInUseError,
    StackLockedError,
)
from labelgraph_devstack.stack import EmbeddedStack, StackPorts, default_state_dir

__all__ = [
    "ComponentStartError",
    "DevstackError",
    "EmbeddedStack",
    "MissingDependencyError",
    "NoStackRunningError",
    "PortInUseError",
    "StackLockedError",
    "StackPorts",
    "default_state_dir",
]
