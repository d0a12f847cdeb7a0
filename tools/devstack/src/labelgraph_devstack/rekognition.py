"""The Rekognition DetectLabels stub, reading images from the stack's S3."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.spec import ComponentSpec, require_module


def stub(port: int, aws_env: Mapping[str, str]) -> ComponentSpec:
    """`aws_env` points the stub's S3 client at moto, with moto's dummy credentials."""
    require_module("rekognition_stub.__main__", "labelgraph-rekognition-stub")
    url = f"http://{HOST}:{port}"
    argv = (sys.executable, "-m", "rekognition_stub", "--host", HOST, "--port", str(port))
    return ComponentSpec(
        "rekognition",
        "Rekognition stub",
        url,
        argv,
        port,
        lambda: http_ok(f"{url}/_stub/health"),
        env=aws_env,
    )
