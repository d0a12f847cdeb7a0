"""The image bucket behind a small interface: list an hour's folder, read an object's
metadata, create an object only where none is. S3ImageStore is the real one (AWS, or any
S3 server through AWS_ENDPOINT_URL); FakeImageStore its in-memory twin for tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class StoredObject:
    """An object as a listing shows it: its key and its ETag (unquoted)."""

    key: str
    etag: str


class ImageStore(Protocol):
    """What the importer asks of the bucket."""

    def list_folder(self, prefix: str) -> list[StoredObject]:
        """Every object whose key starts with `prefix`."""
        ...

    def metadata(self, key: str) -> dict[str, str] | None:
        """The object's user metadata, or None when there is no such object."""
        ...

    def put_new(self, key: str, content: bytes, content_type: str,
                metadata: dict[str, str]) -> bool:
        """Create the object; False, writing nothing, when the key is already taken."""
        ...


class S3ImageStore:
    """The image bucket on S3 (the endpoint is boto3's: AWS_ENDPOINT_URL when set)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3, self._bucket = client, bucket

    @classmethod
    def create(cls, bucket: str, region: str) -> S3ImageStore:
        return cls(boto3.session.Session(region_name=region).client("s3"), bucket)

    def list_folder(self, prefix: str) -> list[StoredObject]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket,
                                                                   Prefix=prefix)
        return [StoredObject(item["Key"], item["ETag"].strip('"'))
                for page in pages for item in page.get("Contents", [])]

    def metadata(self, key: str) -> dict[str, str] | None:
        try:
            return dict(self._s3.head_object(Bucket=self._bucket, Key=key)["Metadata"])
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise

    def put_new(self, key: str, content: bytes, content_type: str,
                metadata: dict[str, str]) -> bool:
        # If-None-Match: S3 itself refuses to overwrite, so two importers racing for one key
        # cannot replace each other's image.
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=content,
                                ContentType=content_type, Metadata=metadata, IfNoneMatch="*")
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] in (409, 412):
                return False
            raise
        return True


class FakeImageStore:
    """An in-memory bucket with S3's single-part ETag (the MD5 of the bytes)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.puts = 0

    def add(self, key: str, content: bytes, metadata: dict[str, str] | None = None) -> None:
        """An object put there by someone else (a camera, an earlier import)."""
        self.objects[key] = (content, dict(metadata or {}))

    def list_folder(self, prefix: str) -> list[StoredObject]:
        return [StoredObject(key, hashlib.md5(content, usedforsecurity=False).hexdigest())
                for key, (content, _) in sorted(self.objects.items())
                if key.startswith(prefix)]

    def metadata(self, key: str) -> dict[str, str] | None:
        stored = self.objects.get(key)
        return dict(stored[1]) if stored else None

    def put_new(self, key: str, content: bytes, content_type: str,
                metadata: dict[str, str]) -> bool:
        if key in self.objects:
            return False
        self.puts += 1
        self.objects[key] = (content, dict(metadata))
        return True
