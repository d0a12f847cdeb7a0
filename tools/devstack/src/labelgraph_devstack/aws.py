"""moto in server mode: S3, SQS and DynamoDB over HTTP."""

from __future__ import annotations

import sys

from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.spec import ComponentSpec, require_module


def moto(port: int) -> ComponentSpec:
    require_module("moto", "moto[server]")
    require_module("flask", "moto[server]")  # the server extra, not moto itself
    url = f"http://{HOST}:{port}"
    argv = (sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port))
    return ComponentSpec("aws", "AWS (moto)", url, argv, port, lambda: http_ok(f"{url}/moto-api/"))
