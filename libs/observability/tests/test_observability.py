"""The ops server on a real loopback port: it serves, and its stop frees the port."""

import asyncio

import httpx

from labelgraph_devstack.ports import ensure_free, free_port
from labelgraph_devstack.probes import tcp_accepts
from labelgraph_observability import OpsServer


def test_ops_server_serves_on_a_real_port_and_stops():
    port = free_port()

    async def ready() -> str | None:
        return None

    async def scenario() -> None:
        server = OpsServer("127.0.0.1", port, ready)
        await server.start()
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/health")
        await server.stop()
        assert response.json() == {"status": "ok"}
        # Stopped means the port is free again: nothing answers, and it can be bound anew
        # (with SO_REUSEADDR, as a restarted server would).
        assert not tcp_accepts(port)
        ensure_free("ops server", port)

    asyncio.run(scenario())
