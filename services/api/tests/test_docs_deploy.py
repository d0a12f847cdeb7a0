"""/docs works without internet: Swagger UI comes from the api's own files (issue 13)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings


class References(HTMLParser):
    """Every URL a page makes the browser load: src and href attributes, and url() in JS."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.script = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]

    def handle_data(self, data: str) -> None:
        self.script += data


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan: the docs page needs no graph and no AWS.
    settings = ApiSettings(neo4j_password="x" * 8, insecure_no_auth=True)  # type: ignore[call-arg]
    return TestClient(create_app(settings))


def test_docs_references_only_the_apis_own_assets_and_each_is_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    refs = References()
    refs.feed(page.text)
    assert refs.urls, "the page loads Swagger UI from somewhere"
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for url in refs.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 500 or url == "/ui/static/docs.js", url
    kinds = {client.get(url).headers["content-type"].split(";")[0] for url in refs.urls}
    assert {"text/javascript", "text/css", "image/png"} <= kinds
    # Started from a file, not inline: the page runs under the pages' script-src 'self'.
    assert refs.script.strip() == "labelgraph - docs"
    assert 'url: "/openapi.json"' in client.get("/ui/static/docs.js").text
    assert client.get("/openapi.json").status_code == 200


def test_redoc_is_not_offered_since_it_would_load_from_a_cdn(client):
    assert client.get("/redoc").status_code == 404
