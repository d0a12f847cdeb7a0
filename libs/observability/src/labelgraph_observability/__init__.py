"""What every labelgraph worker needs to be operated: JSON logs and ops endpoints."""

from labelgraph_observability.logs import JsonFormatter, configure_logging
from labelgraph_observability.ops_server import (
    OpsPortUnavailable,
    OpsServer,
    ReadinessCheck,
    ops_app,
)

__all__ = ["JsonFormatter", "OpsPortUnavailable", "OpsServer", "ReadinessCheck",
           "configure_logging",
           "ops_app"]
