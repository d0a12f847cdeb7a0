"""S3: what the labeler needs to know about an uploaded image."""

from __future__ import annotations

from typing import Any

from labelgraph_labeler.domain import StoredImage


class ImageStore:
    """Reads object metadata from the image bucket."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def describe(self, key: str) -> StoredImage:
        head = self._client.head_object(Bucket=self.bucket, Key=key)
        return StoredImage(
            bucket=self.bucket,
            key=key,
            etag=head["ETag"].strip('"'),
            last_modified=head["LastModified"],
            metadata=head.get("Metadata", {}),
        )
