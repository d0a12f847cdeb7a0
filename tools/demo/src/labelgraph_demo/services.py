"""Moved to labelgraph_devstack.services (test support lives in devstack); this name stays
only for tests/test_pages.py and bench/, which import it still."""

from labelgraph_devstack.ports import free_port
from labelgraph_devstack.services import ServiceDied, ServiceProcesses

__all__ = ["ServiceDied", "ServiceProcesses", "free_port"]
