"""The graph-writer's Prometheus metrics (default registry, served on /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("graph_writer_events", "Valid events consumed, by outcome: written, stale "
                 "(an equal or newer labelling is already in the graph), excluded (camera).",
                 ["outcome"])
DEAD_LETTERS = Counter("graph_writer_dead_letters", "Invalid messages sent to the DLQ topic.")
BATCHES = Counter("graph_writer_batches", "Batches written and committed.")
BATCH_SECONDS = Histogram("graph_writer_batch_seconds", "Time to write and commit one batch.",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
RETRIES = Counter("graph_writer_retries", "Graph writes retried after a transient error.")
POSITION = Gauge("graph_writer_consumer_position",
                 "Next offset to read, as committed after the last batch.", ["topic", "partition"])
