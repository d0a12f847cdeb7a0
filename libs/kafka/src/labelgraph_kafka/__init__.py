"""One Kafka connection configuration for every labelgraph client."""

from labelgraph_kafka.msk_iam import MskIamTokenProvider
from labelgraph_kafka.options import kafka_client_options
from labelgraph_kafka.settings import KafkaSettings, connection_problems

__all__ = ["KafkaSettings", "MskIamTokenProvider", "connection_problems", "kafka_client_options"]
