"""S3: what the labeler needs to know about uploaded images, and the backfill checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from labelgraph_labeler.domain import ImageRejected, StoredImage
from labelgraph_labeler.rows import Checkpoint

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
# HeadObject has no body, so a refusal comes as its bare status code.
_FORBIDDEN = frozenset({"403", "AccessDenied", "Forbidden"})


# Rekognition's own limit for an image in S3; a camera still is a few hundred kB.
MAX_IMAGE_BYTES = 15 * 1024 * 1024


class S3ImageStore:
    """Reads object metadata, lists objects, and reads an image's bytes for local models
    (Rekognition reads the object itself)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, bucket: str, key: str) -> StoredImage:
        try:
            head = self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            _raise_classified(error, bucket, key)
        return StoredImage(
            bucket=bucket,
            key=key,
            etag=head["ETag"].strip('"'),
            last_modified=head["LastModified"],
            metadata=head.get("Metadata", {}),
        )

    def content(self, bucket: str, key: str) -> bytes:
        """The image's bytes; ImageRejected ("too_large") above MAX_IMAGE_BYTES."""
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            _raise_classified(error, bucket, key)
        body = response["Body"]
        try:
            if response.get("ContentLength", 0) > MAX_IMAGE_BYTES:
                raise ImageRejected(f"s3://{bucket}/{key}: {response['ContentLength']} bytes, "
                                    f"over {MAX_IMAGE_BYTES}", "too_large")
            return body.read()
        finally:
            body.close()

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key under prefix, page by page."""
        for page in self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                yield item["Key"]


def _raise_classified(error: ClientError, bucket: str, key: str) -> NoReturn:
    code = error.response.get("Error", {}).get("Code")
    if code in _MISSING:
        raise ImageRejected(f"s3://{bucket}/{key} does not exist", "missing") from None
    if code in _FORBIDDEN:
        raise ImageRejected(f"s3://{bucket}/{key}: access denied", "forbidden") from None
    raise error  # throttling (SlowDown), 5xx: another try may succeed


class S3CheckpointStore:
    """The backfill's checkpoint: one small JSON object, as the original loader kept it."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self.key = key

    def load(self) -> Checkpoint | None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self.key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return Checkpoint.from_json(body)

    def save(self, checkpoint: Checkpoint) -> None:
        self._client.put_object(Bucket=self._bucket, Key=self.key, Body=checkpoint.to_json(),
                                ContentType="application/json")
