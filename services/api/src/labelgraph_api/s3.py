"""S3: presigned GET URLs for images (computed locally by boto3, no request)."""

from __future__ import annotations

from typing import Any


class ImageLinks:
    """Signs time-limited URLs to image objects; endpoints come from AWS_ENDPOINT_URL*."""

    def __init__(self, client: Any, default_bucket: str, expires_seconds: int) -> None:
        self._client = client
        self._default_bucket = default_bucket
        self._expires = expires_seconds

    def url(self, bucket: str | None, object_key: str) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket or self._default_bucket, "Key": object_key},
            ExpiresIn=self._expires)
        return url

    def attach(self, image: dict[str, Any]) -> dict[str, Any]:
        """The image row with its presigned URL added."""
        return {**image, "url": self.url(image.get("bucket"), image["object_key"])}
