"""boto3 clients for a started stack, from its environment, as the services make them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelgraph_provision import AwsClients


def endpoint_for(env: Mapping[str, str], service: str) -> str:
    """AWS_ENDPOINT_URL_<SERVICE> when set (the durable stack's DynamoDB), else
    AWS_ENDPOINT_URL: the order boto3 itself follows."""
    return env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env["AWS_ENDPOINT_URL"]


def aws_client(env: Mapping[str, str], service: str) -> Any:
    """A boto3 client for one of the stack's AWS services."""
    # Imported here: boto3 costs most of a second, and the pytest plugin imports this
    # package in runs that never start a stack.
    import boto3

    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    ).client(service, endpoint_url=endpoint_for(env, service))


def aws_clients(env: Mapping[str, str]) -> AwsClients:
    """The clients provisioning needs, each at its service's endpoint."""
    from labelgraph_provision import AwsClients

    return AwsClients(s3=aws_client(env, "s3"), sqs=aws_client(env, "sqs"),
                      dynamodb=aws_client(env, "dynamodb"), sns=aws_client(env, "sns"))
