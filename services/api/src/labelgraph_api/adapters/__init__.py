"""The api's outside systems, each behind a port of labelgraph_api.ports."""
