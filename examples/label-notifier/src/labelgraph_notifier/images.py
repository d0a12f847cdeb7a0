"""Presigned S3 links to the labelled image: who gets the notification can open it."""

from __future__ import annotations

from typing import Any

from labelgraph_notifier.sightings import Sighting


class PresignedImageLinks:
    """SigV4 GET links, valid for `seconds`; boto3 reads region, credentials and
    AWS_ENDPOINT_URL from the environment, as everywhere in labelgraph."""

    def __init__(self, s3_client: Any, seconds: int) -> None:
        self._s3 = s3_client
        self._seconds = seconds

    def __call__(self, seen: Sighting) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": seen.bucket, "Key": seen.object_key},
            ExpiresIn=self._seconds)
        return url
