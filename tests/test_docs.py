"""The README's configuration tables must name every setting each service reads."""

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from labelgraph_api.config import ApiSettings
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_labeler.config import LabelerSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def env_names(settings: type[BaseSettings]) -> list[str]:
    return [(field.alias or name).upper() for name, field in settings.model_fields.items()]


@pytest.mark.parametrize("settings", [LabelerSettings, GraphWriterSettings, ApiSettings])
def test_every_setting_is_documented_in_the_readme(settings):
    section = README.split(f"<!-- settings:{settings.__name__} -->")[1].split("<!-- /settings")[0]
    missing = [name for name in env_names(settings) if f"`{name}`" not in section]
    assert not missing, f"README's {settings.__name__} table lacks {missing}"


def test_every_page_has_a_current_size_screenshot_in_the_readme():
    """`make screenshots` takes them with the page tests; the README shows each."""
    from labelgraph_api.pages.router import PAGES

    root = Path(__file__).resolve().parents[1]
    for slug in PAGES:
        shot = root / "docs" / "screenshots" / f"{slug}.png"
        assert shot.is_file(), f"{shot} missing: run `make screenshots`"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
        assert shot.stat().st_size < 400_000, f"{shot} is {shot.stat().st_size} bytes"
        assert f"](docs/screenshots/{slug}.png)" in README, f"README shows no {slug}.png"


def test_the_readme_lists_every_port_compose_publishes():
    import re

    compose = (Path(__file__).resolve().parents[1] / "compose.yaml").read_text()
    published = re.findall(r'"127\.0\.0\.1:\$\{(\w+):-(\d+)\}:\d+"', compose)
    assert len(published) >= 5
    deploy = README.split("## Deploy")[1]
    for variable, port in published:
        assert f"`127.0.0.1:{port}`" in deploy and f"`{variable}`" in deploy, variable
