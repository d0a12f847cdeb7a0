"""API settings, all from the environment; defaults work on the embedded stack."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Everything the api reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", description="Bolt URI of the graph.")
    neo4j_user: str = Field("neo4j", description="Graph user.")
    neo4j_password: SecretStr = Field(description="Graph password (no default: required).")
    neo4j_database: str = Field("neo4j", description="Graph database name.")
    api_host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    api_port: int = Field(8000, description="Port the HTTP server binds.")
