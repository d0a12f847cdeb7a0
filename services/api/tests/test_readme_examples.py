"""services/api/README.md shows an example answer of every route the OpenAPI document has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from labelgraph_api.app import create_app
from labelgraph_api.config import ApiSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
# "### `GET /cameras`", then a command, then the answer's block.
EXAMPLE = re.compile(r"^### `(GET|PUT|POST|DELETE) (/\S*)`\n(.*?)(?=^### |^## |\Z)",
                     re.MULTILINE | re.DOTALL)


def documented_routes() -> list[tuple[str, str]]:
    settings = ApiSettings(neo4j_password="x" * 8, insecure_no_auth=True)  # type: ignore[call-arg]
    document = TestClient(create_app(settings)).get("/openapi.json").json()
    return sorted((method.upper(), path) for path, operations in document["paths"].items()
                  for method in operations)


def examples() -> dict[tuple[str, str], str]:
    section = README.split("## Example responses")[1]
    return {(method, path): body for method, path, body in EXAMPLE.findall(section)}


def test_every_route_has_an_example_answer_in_the_readme():
    shown = examples()
    missing = [route for route in documented_routes() if route not in shown]
    assert not missing, f"services/api/README.md has no example of {missing}"


def test_each_example_is_a_command_and_its_answer():
    for (method, path), body in examples().items():
        blocks = re.findall(r"```(\w+)\n(.*?)```", body, re.DOTALL)
        kinds = [kind for kind, _ in blocks]
        assert kinds[0] == "sh" and kinds[-1] in ("json", "text"), (method, path, kinds)
        if kinds[-1] == "json":
            json.loads(blocks[-1][1])  # trimmed, but still JSON
