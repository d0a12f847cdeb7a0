"""Idempotent creation of the bucket, queues, table and topics the services expect."""

from labelgraph_provision.aws import AwsClients
from labelgraph_provision.dynamodb import CAPTURE_DATE_INDEX
from labelgraph_provision.errors import ProvisionError
from labelgraph_provision.provision import provision, provision_aws
from labelgraph_provision.report import Outcome, ProvisionReport, Status
from labelgraph_provision.settings import ProvisionSettings

__all__ = [
    "CAPTURE_DATE_INDEX",
    "AwsClients",
    "Outcome",
    "ProvisionError",
    "ProvisionReport",
    "ProvisionSettings",
    "Status",
    "provision",
    "provision_aws",
]
