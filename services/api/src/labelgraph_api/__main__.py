"""`python -m labelgraph_api`: serve the api with uvicorn."""

from __future__ import annotations

import uvicorn

from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings


def main() -> None:
    settings = ApiSettings()  # type: ignore[call-arg]
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


if __name__ == "__main__":
    main()
