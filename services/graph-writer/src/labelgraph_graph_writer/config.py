"""Graph-writer settings, all from the environment; defaults work on the embedded stack."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from labelgraph_contract import LABEL_DLQ_TOPIC, LABEL_TOPIC


class GraphWriterSettings(BaseSettings):
    """Everything the graph-writer reads from its environment."""

    # Tuning knobs carry a service prefix so one shared env file cannot mix them up.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    label_topic: str = Field(LABEL_TOPIC, description="Topic of ImageLabeled events.")
    label_dlq_topic: str = Field(LABEL_DLQ_TOPIC, description="Where invalid messages go.")
    consumer_group: str = Field("graph-writer", alias="GRAPH_WRITER_CONSUMER_GROUP",
                                description="Kafka consumer group id.")
    batch_size: int = Field(500, ge=1, le=10_000, alias="GRAPH_WRITER_BATCH_SIZE",
                            description="Events per graph transaction.")
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", description="Bolt URI of the graph.")
    neo4j_user: str = Field("neo4j", description="Graph user.")
    neo4j_password: SecretStr = Field(description="Graph password (no default: required).")
    neo4j_database: str = Field("neo4j", description="Graph database name.")
