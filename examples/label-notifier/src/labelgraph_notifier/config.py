"""Every setting of the notifier, from environment variables; defaults fit the embedded stack."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from labelgraph_contract import LABEL_TOPIC


class NotifierSettings(BaseSettings):
    """What to watch for, where to say so, and where to keep what was said."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", frozen=True)

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka brokers (KAFKA_BOOTSTRAP_SERVERS).",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "NOTIFIER_BOOTSTRAP_SERVERS"))
    topic: str = Field(default=LABEL_TOPIC, description="The label topic (LABEL_TOPIC).",
                       validation_alias=AliasChoices("LABEL_TOPIC", "NOTIFIER_TOPIC"))
    group: str = Field(default="label-notifier", min_length=1, max_length=255,
                       description="This consumer's own group: its offsets are its own.")
    camera: str = Field(default="frontdoor", min_length=1, max_length=256,
                        description="The camera to watch, as events name it.")
    label: str = Field(default="Person", min_length=1, max_length=256,
                       description="The label to watch for (case does not matter).")
    threshold: float = Field(default=90.0, ge=0, le=100,
                             description="Notify at or above this confidence, 0-100.")
    webhook_url: str | None = Field(default=None, max_length=2048,
                                    description="POST a JSON notification here, if set.")
    apprise_urls: str = Field(default="", max_length=8192,
                              description="Apprise targets, separated by spaces or commas.")
    state_file: Path = Field(default=Path("label-notifier.sqlite3"),
                             description="SQLite file of the labellings already notified.")
    link_seconds: int = Field(default=86_400, ge=60, le=604_800,
                              description="How long the image link stays valid (SigV4: 7 days "
                              "at most).")
    send_attempts: int = Field(default=8, ge=1, le=100,
                               description="Tries per target while it is unavailable; then the "
                               "process exits (3) and resumes from its last commit.")
    retry_max_seconds: float = Field(default=60.0, gt=0,
                                     description="Longest wait between two tries.")
    session_timeout_ms: int = Field(default=10_000, ge=1_000,
                                    description="Kafka group session timeout.")
    heartbeat_interval_ms: int = Field(default=3_000, ge=100,
                                       description="Kafka group heartbeat interval.")

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url or None

    def apprise_targets(self) -> list[str]:
        return [url for url in self.apprise_urls.replace(",", " ").split() if url]
