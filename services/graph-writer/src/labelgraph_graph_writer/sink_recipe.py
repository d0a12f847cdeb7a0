"""The Kafka Connect recipe for the Neo4j Connector's sink, generated from cypher.SINK_EVENT.

`python -m labelgraph_graph_writer.sink_recipe [FILE]` writes it (`make schemas` does, into
deploy/kafka-connect/neo4j-sink.json); a test keeps the committed file equal to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from labelgraph_contract import LABEL_TOPIC
from labelgraph_graph_writer import cypher

RECIPE_FILE = Path("deploy/kafka-connect/neo4j-sink.json")
CONNECT_DLQ_TOPIC = f"{LABEL_TOPIC}.connect-dlq"


def recipe() -> dict[str, Any]:
    """The connector's configuration, as Kafka Connect's REST API takes it (PUT .../config
    takes the "config" object alone); ${env:...} values come from Connect's config provider."""
    return {
        "name": "labelgraph-neo4j-sink",
        "config": {
            "connector.class": "org.neo4j.connectors.kafka.sink.Neo4jConnector",
            "tasks.max": "1",
            "topics": LABEL_TOPIC,
            "neo4j.uri": "${env:NEO4J_URI}",
            "neo4j.authentication.type": "BASIC",
            "neo4j.authentication.basic.username": "${env:NEO4J_USER}",
            "neo4j.authentication.basic.password": "${env:NEO4J_PASSWORD}",
            "neo4j.database": "${env:NEO4J_DATABASE}",
            f"neo4j.cypher.topic.{LABEL_TOPIC}": " ".join(cypher.SINK_EVENT.split()),
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "errors.tolerance": "all",
            "errors.log.enable": "true",
            "errors.log.include.messages": "false",
            "errors.deadletterqueue.topic.name": CONNECT_DLQ_TOPIC,
            "errors.deadletterqueue.topic.replication.factor": "3",
            "errors.deadletterqueue.context.headers.enable": "true",
            "errors.retry.timeout": "300000",
            "errors.retry.delay.max.ms": "60000",
        },
    }


def rendered() -> str:
    return json.dumps(recipe(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RECIPE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
