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
