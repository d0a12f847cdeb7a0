"""One Kafka connection configuration for every labelgraph client."""
