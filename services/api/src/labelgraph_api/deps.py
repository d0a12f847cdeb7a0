"""Dependencies the routes declare: typed aliases over what the lifespan created."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from labelgraph_api.graph import GraphReader


def _graph(request: Request) -> GraphReader:
    graph: GraphReader = request.app.state.graph
    return graph


Graph = Annotated[GraphReader, Depends(_graph)]
