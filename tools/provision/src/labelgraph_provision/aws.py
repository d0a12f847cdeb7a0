"""The boto3 clients provisioning talks to, made once and handed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Fail within seconds when an endpoint is down instead of botocore's minute of backoff;
# the compose job is restarted by its supervisor anyway.
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3})


@dataclass(frozen=True)
class AwsClients:
    s3: Any
    sqs: Any
    dynamodb: Any
    sns: Any  # only for the fan-out of uploads (IMAGE_TOPIC_NAME)

    @classmethod
    def create(
        cls,
        region: str,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> AwsClients:
        """Clients for `region`; without `endpoint_url` boto3 resolves endpoints itself.

        boto3 already honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so the
        command line passes no endpoint and works unchanged on AWS, LocalStack and moto.
        An explicit endpoint is for callers that own a server but not os.environ (devstack).
        """
        session = boto3.Session(
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
        )

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=endpoint_url, config=_CLIENT_CONFIG)

        return cls(s3=client("s3"), sqs=client("sqs"), dynamodb=client("dynamodb"),
                   sns=client("sns"))
