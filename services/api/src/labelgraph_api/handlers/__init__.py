"""The api's use cases, one function each, typed on labelgraph_api.ports (no HTTP here)."""
