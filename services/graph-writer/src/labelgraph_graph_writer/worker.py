"""The consume loop: a batch from the topic, one graph transaction, then the commit."""

from __future__ import annotations

import asyncio
import logging

from labelgraph_graph_writer.adapters.kafka import LabelConsumer
from labelgraph_graph_writer.handlers import GraphWriter, write_batch

log = logging.getLogger(__name__)


async def run_worker(writer: GraphWriter, consumer: LabelConsumer, stop: asyncio.Event,
                     batch_size: int) -> None:
    """Consume until stop is set; offsets are committed only after the batch is written."""
    while not stop.is_set():
        records = await consumer.next_batch(batch_size)
        if records:
            written = await write_batch(writer, records)
            await consumer.commit()
            log.info("wrote %d of %d events", written, len(records))
