"""S3: what the labeler needs to know about uploaded images, and the backfill checkpoint."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from botocore.exceptions import ClientError
from PIL import Image

from labelgraph_labeler.config import DEFAULT_MAX_PIXELS
from labelgraph_labeler.domain import ImageRejected, StoredImage
from labelgraph_labeler.rows import Checkpoint

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
# HeadObject has no body, so a refusal comes as its bare status code.
_FORBIDDEN = frozenset({"403", "AccessDenied", "Forbidden"})


# Rekognition's own limit for an image in S3; a camera still is a few hundred kB.
MAX_IMAGE_BYTES = 15 * 1024 * 1024
# A camera still's JPEG frame header follows its EXIF block, a thumbnail included, which
# JPEG bounds at 64 KiB; a PNG's is in its first 33 bytes. An image whose header lies
# further in is read whole (up to MAX_IMAGE_BYTES) to find it.
HEADER_BYTES = 64 * 1024
# What Rekognition takes and cameras send; OpenCV would decode GIF, WebP and more, which a
# labeler with several detectors would then label with some of them only.
IMAGE_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True)
class ImageHeader:
    """An image's format and size as its header states them, before any pixel is decoded."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def checked(self, max_pixels: int) -> ImageHeader:
        """This header; ImageRejected ("too_large") if its image has more than max_pixels."""
        if self.pixels > max_pixels:
            raise ImageRejected(f"{self.format} of {self.width:,} x {self.height:,} pixels, "
                                f"over the {max_pixels:,} pixels decoded", "too_large")
        return self


@dataclass(frozen=True)
class Listing:
    """One level of a bucket under a prefix: its sub-prefixes (up to the next "/") and the
    objects at that level itself."""

    prefixes: list[str]
    keys: list[str]


def image_header(data: bytes) -> ImageHeader | None:
    """The JPEG or PNG header at the start of data, None when it holds none (another
    format, no image, or cut before its header ends); nothing is decoded."""
    try:
        # Lazy: Image.open parses the header only, whatever size it states.
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            return ImageHeader(str(image.format), *image.size)
    except Image.DecompressionBombError as error:
        # Pillow's own bound (about 179 MP), stated before ours can be applied.
        raise ImageRejected(str(error), "too_large") from None
    except (OSError, SyntaxError, ValueError):  # UnidentifiedImageError is an OSError
        return None


class S3ImageStore:
    """Reads object metadata, lists objects, and reads an image's bytes for local models
    (Rekognition reads the object itself)."""

    def __init__(self, client: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self._client = client
        self._max_pixels = max_pixels

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

    def checked_header(self, bucket: str, key: str) -> ImageHeader:
        """The image's header from its first HEADER_BYTES (the whole object if it lies
        further in); ImageRejected "not_image" without one, "too_large" above max_pixels."""
        first, size = self._first_bytes(bucket, key)
        header = image_header(first)
        if header is None and len(first) < size:
            header = image_header(self.content(bucket, key))
        if header is None:
            raise ImageRejected(f"s3://{bucket}/{key}: {size:,} bytes with no JPEG or PNG "
                                "header", "not_image")
        return header.checked(self._max_pixels)

    def _first_bytes(self, bucket: str, key: str) -> tuple[bytes, int]:
        """Up to HEADER_BYTES from the object's start, and the object's size."""
        try:
            response = self._client.get_object(Bucket=bucket, Key=key,
                                               Range=f"bytes=0-{HEADER_BYTES - 1}")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b"", 0  # S3 has no first byte of an empty object to give
            _raise_classified(error, bucket, key)
        body = response["Body"]
        try:
            # A server that ignores Range sends the whole object: read no more of it.
            return body.read(HEADER_BYTES), _object_size(response)
        finally:
            body.close()

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key under prefix, page by page."""
        for page in self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                yield item["Key"]

    def children(self, bucket: str, prefix: str) -> Listing:
        """The level under prefix (Delimiter "/"): one call per 1,000 entries, whatever
        the sub-prefixes hold."""
        listing = Listing([], [])
        for page in self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        ):
            listing.prefixes.extend(item["Prefix"] for item in page.get("CommonPrefixes", []))
            listing.keys.extend(item["Key"] for item in page.get("Contents", []))
        return listing


def _object_size(response: dict[str, Any]) -> int:
    """The whole object's size: after the slash of "bytes 0-65535/1234567" for a range."""
    if "ContentRange" in response:
        return int(response["ContentRange"].rpartition("/")[2])
    return int(response["ContentLength"])


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
        body = _small_object(self._client, self._bucket, self.key)
        return None if body is None else Checkpoint.from_json(body)

    def save(self, checkpoint: Checkpoint) -> None:
        _put_json(self._client, self._bucket, self.key, checkpoint.to_json())


class S3ReconcileProgress:
    """Where an interrupted `reconcile --all` stopped: the last day prefix it settled, in
    one small JSON object beside the backfill's checkpoints, for the scope it walked."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self.key = key

    def load(self, scope: str) -> str | None:
        body = _small_object(self._client, self._bucket, self.key)
        document = {} if body is None else json.loads(body)
        # Another prefix or other detectors: that walk's progress says nothing about this one.
        return document.get("settled") if document.get("scope") == scope else None

    def save(self, scope: str, settled: str | None) -> None:
        _put_json(self._client, self._bucket, self.key,
                  json.dumps({"scope": scope, "settled": settled}).encode())


class S3ReconcileMark:
    """The day the last finished reconcile at start began, for the scope it walked: one small
    JSON object beside the reconcile's progress."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self.key = key

    def load(self, scope: str) -> date | None:
        body = _small_object(self._client, self._bucket, self.key)
        document = {} if body is None else json.loads(body)
        # Another bucket or other detectors: what that walk covered says nothing of this one.
        if document.get("scope") != scope:
            return None
        return date.fromisoformat(document["began"])

    def save(self, scope: str, began: date) -> None:
        _put_json(self._client, self._bucket, self.key,
                  json.dumps({"scope": scope, "began": began.isoformat()}).encode())


def _small_object(client: Any, bucket: str, key: str) -> bytes | None:
    """A small state object's bytes (a checkpoint, progress), None when there is none yet."""
    try:
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise


def _put_json(client: Any, bucket: str, key: str, body: bytes) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
