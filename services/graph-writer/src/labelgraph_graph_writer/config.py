"""Graph-writer settings, all from the environment; defaults work on the embedded stack."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from labelgraph_contract import LABEL_DLQ_TOPIC, LABEL_TOPIC
from labelgraph_kafka import KafkaSettings


class GraphWriterSettings(KafkaSettings):
    """Everything the graph-writer reads from its environment (the KAFKA_* connection
    settings are labelgraph_kafka's, shared with the labeler and provision)."""

    # Tuning knobs carry a service prefix so one shared env file cannot mix them up.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    label_topic: str = Field(LABEL_TOPIC, description="Topic of ImageLabeled events.")
    label_dlq_topic: str = Field(LABEL_DLQ_TOPIC, description="Where invalid messages go.")
    consumer_group: str = Field("graph-writer", alias="GRAPH_WRITER_CONSUMER_GROUP",
                                description="Kafka consumer group id.")
    batch_size: int = Field(500, ge=1, le=10_000, alias="GRAPH_WRITER_BATCH_SIZE",
                            description="Events per graph transaction.")
    tally_fill_batch: int = Field(500, ge=1, le=10_000, alias="GRAPH_WRITER_TALLY_FILL_BATCH",
                                  description="Images per transaction when the tallies of "
                                  "a graph written before them are filled at start.")
    tally_settle_seconds: float = Field(
        300, ge=0, alias="GRAPH_WRITER_TALLY_SETTLE_SECONDS",
        description="A day's tally not written for this long is folded into its month's.")
    tally_fold_seconds: float = Field(30, gt=0, alias="GRAPH_WRITER_TALLY_FOLD_SECONDS",
                                      description="How often settled days are folded.")
    excluded_cameras: str = Field("", alias="GRAPH_WRITER_EXCLUDED_CAMERAS",
                                  description="Comma-separated cameras never written.")
    session_timeout_ms: int = Field(10_000, ge=1_000, alias="GRAPH_WRITER_SESSION_TIMEOUT_MS",
                                    description="Consumer group session timeout.")
    heartbeat_interval_ms: int = Field(3_000, ge=100,
                                       alias="GRAPH_WRITER_HEARTBEAT_INTERVAL_MS",
                                       description="Consumer group heartbeat interval.")
    retry_initial_seconds: float = Field(0.5, gt=0, alias="GRAPH_WRITER_RETRY_INITIAL_SECONDS",
                                         description="First wait after a transient graph error.")
    retry_max_seconds: float = Field(30, gt=0, alias="GRAPH_WRITER_RETRY_MAX_SECONDS",
                                     description="Longest wait between retries (doubling).")
    ops_host: str = Field("127.0.0.1", alias="GRAPH_WRITER_OPS_HOST",
                          description="Address of /health, /ready and /metrics.")
    ops_port: int = Field(8082, ge=0, le=65535, alias="GRAPH_WRITER_OPS_PORT",
                          description="Port of /health, /ready and /metrics.")
    log_level: str = Field("INFO", alias="GRAPH_WRITER_LOG_LEVEL", description="Log level.")
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", description="Bolt URI of the graph.")
    neo4j_user: str = Field("neo4j", description="Graph user.")
    neo4j_password: SecretStr = Field(description="Graph password (no default: required).")
    neo4j_database: str = Field("neo4j", description="Graph database name.")

    def excluded_camera_set(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.excluded_cameras.split(",") if name.strip())
