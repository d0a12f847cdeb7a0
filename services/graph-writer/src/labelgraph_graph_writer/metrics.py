"""The graph-writer's Prometheus metrics (default registry, served on /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("graph_writer_events", "Valid events consumed, by outcome: written, stale "
                 "(an equal or newer labelling is already in the graph), excluded (camera).",
                 ["outcome"])
DEAD_LETTERS = Counter("graph_writer_dead_letters", "Messages sent to the DLQ topic, by cause: "
                       "invalid (not a valid event, or keyed wrong), graph (the graph rejected "
                       "the event every time it was tried alone).", ["cause"])
BATCHES = Counter("graph_writer_batches", "Batches written and committed.")
BATCH_SECONDS = Histogram("graph_writer_batch_seconds", "Time to write and commit one batch.",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
RETRIES = Counter("graph_writer_retries", "Operations tried again after a failure, by condition: "
                  "graph_writes, commits, dead_letters.", ["condition"])
POSITION = Gauge("graph_writer_consumer_position",
                 "Next offset to read, as committed after the last batch.", ["topic", "partition"])

# Every known series exported from the start, at 0, so rates and alerts see the first one.
for _cause in ("invalid", "graph"):
    DEAD_LETTERS.labels(_cause)
for _condition in ("graph_writes", "commits", "dead_letters"):
    RETRIES.labels(_condition)
for _outcome in ("written", "stale", "excluded"):
    EVENTS.labels(_outcome)
