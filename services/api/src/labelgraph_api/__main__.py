"""`python -m labelgraph_api`: serve the api with uvicorn."""

from __future__ import annotations

import uvicorn

from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings
from labelgraph_observability import configure_logging


def main() -> None:
    configure_logging("api")
    settings = ApiSettings()  # type: ignore[call-arg]
    # Access lines come from our middleware, as JSON with the route and duration.
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                access_log=False, log_config=None)


if __name__ == "__main__":
    main()
