"""Use cases of the graph-writer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from labelgraph_contract import InvalidEvent, decode_event
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.adapters.kafka import DeadLetterPublisher
from labelgraph_graph_writer.domain import image_row

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphWriter:
    """The graph-writer's outside world, wired once by bootstrap."""

    graph: LabelGraph
    dead_letters: DeadLetterPublisher


async def write_batch(writer: GraphWriter, records: list[ConsumerRecord]) -> int:
    """Write the valid events of a batch in one transaction; dead-letter the rest."""
    rows = []
    for record in records:
        try:
            rows.append(image_row(decode_event(record.value)))
        except InvalidEvent as error:
            log.warning("dead-lettered %s[%d]@%d: %s", record.topic, record.partition,
                        record.offset, error.reason)
            await writer.dead_letters.publish(record, error.reason)
    if rows:
        await writer.graph.write_images(rows)
    return len(rows)
