"""The one place that turns settings into live adapters."""

from __future__ import annotations

from neo4j import AsyncDriver, AsyncGraphDatabase

from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.adapters.kafka import DeadLetterPublisher, LabelConsumer
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.handlers import GraphWriter


def build_driver(settings: GraphWriterSettings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value())
    )


def build_writer(settings: GraphWriterSettings, driver: AsyncDriver) -> GraphWriter:
    return GraphWriter(
        graph=LabelGraph(driver, settings.neo4j_database),
        dead_letters=DeadLetterPublisher(settings.kafka_bootstrap_servers,
                                         settings.label_dlq_topic),
    )


def build_consumer(settings: GraphWriterSettings) -> LabelConsumer:
    return LabelConsumer(settings.kafka_bootstrap_servers, settings.label_topic,
                         settings.consumer_group)
