"""`labelgraph-provision`: provision from environment variables, log each step."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.provision import provision
from labelgraph_provision.settings import ProvisionSettings

log = logging.getLogger("labelgraph_provision")


_ENVIRONMENT = """
environment (defaults in brackets):
  IMAGE_BUCKET [security-alarms]  IMAGE_QUEUE_NAME [security-alarms-uploads]
  IMAGE_DLQ_NAME [<queue>-dlq]  IMAGE_QUEUE_MAX_RECEIVES [5]
  IMAGE_TOPIC_NAME [none: the bucket notifies IMAGE_QUEUE_NAME] fan-out: the bucket notifies
    this SNS topic, and every queue of IMAGE_QUEUE_NAMES [IMAGE_QUEUE_NAME] gets each upload
    (raw delivery; dead letters to <queue>-dlq), one queue per labeler
  IMAGE_QUEUE_VISIBILITY_TIMEOUT [60]  LABEL_TABLE [security_alarm_image_label_set]
  LABELER_DETECTORS [aws-rekognition] (a label table for each: LABEL_TABLE for
    aws-rekognition, LABEL_TABLE.<name> for the others)
  VERDICT_TABLE [security_alarm_image_verdicts]
  LABEL_TOPIC [image-labels]  LABEL_TOPIC_PARTITIONS [6]  LABEL_DLQ_TOPIC [<topic>.dlq]
  LABEL_DLQ_TOPIC_PARTITIONS [3]  LABEL_TOPIC_MAX_MESSAGE_BYTES [1048588] (both topics'
    max.message.bytes; an existing topic below 1048588 fails the run)
  KAFKA_BOOTSTRAP_SERVERS [127.0.0.1:9092]
  KAFKA_REPLICATION_FACTOR [1]  AWS_DEFAULT_REGION [us-east-1]
  KAFKA_SECURITY_PROTOCOL [PLAINTEXT] (SSL, SASL_PLAINTEXT, SASL_SSL)
  KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)
  KAFKA_SASL_USERNAME  KAFKA_SASL_PASSWORD  KAFKA_SASL_OAUTH_PROVIDER (aws-msk-iam)
  KAFKA_SSL_CA_FILE [system trust store]  KAFKA_SSL_CERT_FILE  KAFKA_SSL_KEY_FILE
  KAFKA_SSL_KEY_PASSWORD (docs/deploy.md, "Managed Kafka")
  and boto3's own: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, credentials
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="labelgraph-provision",
        description="Create the bucket, queues, table and topics the services expect; "
        "what exists already is left alone (an existing topic is checked: differences are "
        "warned about, a max.message.bytes too small for an event fails the run).",
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", choices=["aws", "kafka"],
                        help="provision only the AWS resources, or only the Kafka topics "
                        "(when the other side comes from infrastructure code)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # aiokafka logs every refused connection at ERROR, botocore each endpoint it finds at
    # INFO: our own lines say what matters, once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        report = provision(ProvisionSettings.from_env(), only=args.only)
    except (ProvisionError, ValueError) as exc:
        log.error("provisioning failed: %s", exc)
        return 1
    log.info(
        "provisioned: %d created, %d updated, %d already existed",
        len(report.created),
        len(report.updated),
        len(report.existed),
    )
    return 0
