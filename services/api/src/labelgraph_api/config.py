"""API settings, all from the environment; defaults work on the embedded stack."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class KeysMissing(ValueError):
    """Serving was asked for with no API key and without the dev flag."""


class ApiSettings(BaseSettings):
    """Everything the api reads from its environment."""

    # Tuning knobs carry a service prefix so one shared env file cannot mix them up.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", description="Bolt URI of the graph.")
    neo4j_user: str = Field("neo4j", description="Graph user.")
    neo4j_password: SecretStr = Field(description="Graph password (no default: required).")
    neo4j_database: str = Field("neo4j", description="Graph database name.")
    api_host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    api_port: int = Field(8000, description="Port the HTTP server binds.")
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys accepted in the X-API-Key header.")
    insecure_no_auth: bool = Field(
        False, alias="API_INSECURE_NO_AUTH",
        description="Serve without any key (dev only); required when API_KEYS is empty.")
    query_timeout_seconds: float = Field(
        10.0, gt=0, le=300, alias="API_QUERY_TIMEOUT_SECONDS",
        description="Longest a graph query may run before the request fails with 504.")
    image_bucket: str = Field("security-alarms",
                              description="Bucket presigned URLs use when an image names none.")
    presign_seconds: int = Field(900, ge=1, le=604_800, alias="API_PRESIGN_SECONDS",
                                 description="Lifetime of presigned image URLs.")
    public_s3_endpoint_url: str | None = Field(
        None, alias="API_PUBLIC_S3_ENDPOINT_URL", pattern=r"^https?://[^\s]+$", max_length=2048,
        description="S3 endpoint the presigned image URLs name, as the browser reaches it "
        "(only signed into URLs, never connected to); unset: the api's own S3 endpoint.")
    aws_default_region: str = Field("us-east-1", description="AWS region of the AWS clients.")
    ready_timeout_seconds: float = Field(
        3.0, gt=0, le=60, alias="API_READY_TIMEOUT_SECONDS",
        description="Longest /ready waits for the graph before answering 503.")
    key_failure_limit: int = Field(
        10, ge=1, le=10_000, alias="API_KEY_FAILURE_LIMIT",
        description="Refused keys one client address may send within the window; then its "
        "key checks answer 429 until the oldest refusal leaves the window.")
    key_failure_window_seconds: float = Field(
        60.0, gt=0, le=86_400, alias="API_KEY_FAILURE_WINDOW_SECONDS",
        description="Length of the sliding window over which refused keys are counted.")
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        (), alias="API_TRUSTED_PROXIES",
        description="Comma-separated addresses or CIDR networks of the proxies in front of "
        "the api. Only from these peers are X-Forwarded-For and X-Forwarded-Proto read (the "
        "client is the header's right-most address that is no trusted proxy); empty: the "
        "client is the connection's peer and the headers are ignored.")
    verdict_table: str = Field(
        "security_alarm_image_verdicts", alias="VERDICT_TABLE",
        description="DynamoDB table holding reviewers' verdicts (their system of record).")

    @field_validator("public_s3_endpoint_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # compose passes `API_PUBLIC_S3_ENDPOINT_URL=` for real AWS: sign for AWS itself.
        return None if value == "" else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def refuse_to_serve_without_keys(self) -> None:
        """Serving needs keys or the dev flag; the maintenance commands need neither."""
        if not self.key_set and not self.insecure_no_auth:
            raise KeysMissing("API_KEYS is empty: set keys, or API_INSECURE_NO_AUTH=true "
                              "for dev")

    @property
    def key_set(self) -> frozenset[str]:
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        return frozenset(key.strip() for key in raw.split(",") if key.strip())
