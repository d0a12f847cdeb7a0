"""The Kafka Connect recipe (deploy/kafka-connect): generated from the graph-writer's Cypher,
and its statement, run on the session's ArcadeDB as the connector runs it, builds the graph
the graph-writer builds (but for what its README says it does not do)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from labelgraph_contract import LABEL_TOPIC, encode_event
from labelgraph_graph_writer.sink_recipe import rendered

COMMITTED = Path(__file__).resolve().parents[3] / "deploy" / "kafka-connect" / "neo4j-sink.json"

IMAGES = """
MATCH (c:Camera)-[h:HAS_IMAGE]->(i:Image) WHERE i.object_key IN $keys
RETURN i.object_key, c.camera_name, h.timestamp, i.isodate, i.timestamp, i.bucket, i.labeled_at
"""
LINKS = """
MATCH (i:Image)-[r]->(t) WHERE i.object_key IN $keys AND type(r) <> 'HAS_LABEL'
RETURN i.object_key, type(r),
       coalesce(t.iso_date, t.year_value, t.month_value, t.day_value, t.hour_value)
"""
LABELS = """
MATCH (i:Image)-[r:HAS_LABEL]->(l:Label) WHERE i.object_key IN $keys
RETURN i.object_key, l.label_name, r.confidence, r.detector, r.model_version, r.event_id,
       r.labeled_at
"""


def test_the_committed_recipe_is_generated_from_the_graph_writers_cypher():
    assert COMMITTED.read_text() == rendered(), "run `make schemas`"


@pytest.mark.stack
def test_the_sink_statement_builds_the_graph_writers_graph_from_events(kit, helpers):
    config = json.loads(COMMITTED.read_text())["config"]
    assert config["value.converter.schemas.enable"] == "false"
    assert not any(name.startswith("neo4j.cypher.bind") for name in config)
    # The connector binds each value as `event` by default; JsonConverter without schemas
    # hands it the event's JSON as a map, which is what the driver sends here.
    statement = "WITH $event AS event " + config[f"neo4j.cypher.topic.{LABEL_TOPIC}"]
    camera, person, plant = (f"{name}{uuid.uuid4().hex[:8]}" for name in ("cam", "P", "Pl"))
    events = [helpers.make_event(camera, 0, {person: 99.5, plant: 71.25}),
              helpers.make_event(camera, 1, {plant: 80.0}),
              helpers.make_event(camera, 2, {})]
    keys = [event.object_key for event in events]

    for _ in range(2):  # a replay changes nothing
        for event in events:
            kit.query(statement, event=json.loads(encode_event(event).value))
        found = {name: sorted((tuple(row.values()) for row in kit.query(query, keys=keys)),
                              key=repr)
                 for name, query in (("images", IMAGES), ("links", LINKS), ("labels", LABELS))}
        expected = helpers.expected_graph(events)
        # Bounding boxes are the graph-writer's alone (the README says why).
        expected["labels"] = sorted((row[:-1] for row in expected["labels"]), key=repr)
        assert found == expected
