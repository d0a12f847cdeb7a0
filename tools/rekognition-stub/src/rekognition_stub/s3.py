"""Reads images from S3 with boto3, which follows AWS_ENDPOINT_URL to moto or LocalStack."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from rekognition_stub.detect import ObjectTooLarge, ObjectUnreadable


class S3ImageStore:
    """The ImageStore of the running stub."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        """The object's bytes; raises ObjectUnreadable, or ObjectTooLarge past max_bytes."""
        extra = {} if version is None else {"VersionId": version}
        try:
            response = self._client.get_object(Bucket=bucket, Key=key, **extra)
        except ClientError as error:
            # AWS answers InvalidS3ObjectException for any object it cannot read.
            raise ObjectUnreadable(f"s3://{bucket}/{key}: {error}") from error
        body = response["Body"]
        with body:
            if response["ContentLength"] > max_bytes:
                raise ObjectTooLarge(f"s3://{bucket}/{key}: {response['ContentLength']} bytes")
            return bytes(body.read())


def make_s3_client(pool_size: int) -> Any:
    """An S3 client on the environment's endpoint, pooled for concurrent request threads."""
    return boto3.client("s3", config=Config(max_pool_connections=pool_size))
