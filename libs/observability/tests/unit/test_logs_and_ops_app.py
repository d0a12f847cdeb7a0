"""JSON log lines and the ops app's /ready and /metrics, in process (no port, no server)."""

import asyncio
import json
import logging

import httpx
from prometheus_client import CollectorRegistry, Counter

from labelgraph_observability import JsonFormatter, ops_app


def test_log_lines_are_json_with_extra_fields():
    record = logging.makeLogRecord({"name": "labeler", "levelname": "INFO", "msg": "labelled %s",
                                    "args": ("a.jpg",), "object_key": "a.jpg"})
    entry = json.loads(JsonFormatter("labeler").format(record))
    assert entry["message"] == "labelled a.jpg"
    assert entry["object_key"] == "a.jpg" and entry["service"] == "labeler"
    assert entry["level"] == "info"


def test_readiness_reports_the_reason_and_metrics_are_exposed():
    registry = CollectorRegistry()
    Counter("images_labelled", "test counter", registry=registry).inc(3)
    reason: list[str | None] = ["kafka unreachable"]

    async def ready() -> str | None:
        return reason[0]

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=ops_app(ready, registry))
        async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
            not_ready = await client.get("/ready")
            assert not_ready.status_code == 503
            assert not_ready.json()["reason"] == "kafka unreachable"
            reason[0] = None
            assert (await client.get("/ready")).status_code == 200
            assert "images_labelled_total 3.0" in (await client.get("/metrics")).text

    asyncio.run(scenario())
