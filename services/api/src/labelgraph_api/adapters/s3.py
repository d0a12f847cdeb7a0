"""S3: presigned GET URLs for images (computed locally by boto3, no request), and the
images' bytes for training exports, read a chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import boto3
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

# SigV4: AWS refuses SigV2 (botocore's default for presigned URLs) on buckets created since
# June 2020 and on SSE-KMS objects. On AWS the bucket's virtual host in its region
# (bucket.s3.<region>.amazonaws.com): botocore's "auto" would sign for the global
# s3.amazonaws.com, which answers a bucket outside us-east-1 with a redirect (us-east-1
# too gets its regional host, so every region has the same form). An endpoint
# override (LocalStack, moto, MinIO) names no bucket hosts: path style there.
SIGNATURE = "s3v4"
CHUNK_BYTES = 64 * 1024
# A missing object (deleted since it was labelled) is no error a retry mends.
GONE = {"NoSuchKey", "404", "NoSuchBucket"}


def signing_client(session: boto3.session.Session, region: str,
                   public_endpoint_url: str | None) -> Any:
    """An S3 client for signing only: its endpoint is the one the URLs' readers reach.

    Signing is local, so nothing ever connects to `public_endpoint_url`; without it the
    endpoint is boto3's own (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the config file, or AWS).
    """
    overridden = public_endpoint_url is not None or _endpoint_is_configured(session, region)
    config = Config(signature_version=SIGNATURE,
                    s3={"addressing_style": "path" if overridden else "virtual",
                        "us_east_1_regional_endpoint": "regional"})
    return session.client("s3", region_name=region, endpoint_url=public_endpoint_url,
                          config=config)


def _endpoint_is_configured(session: boto3.session.Session, region: str) -> bool:
    # Compared with boto3's answer rather than read from the environment, so every place
    # boto3 takes an endpoint from counts (building a client makes no request).
    aws_default = session.client(
        "s3", region_name=region, config=Config(ignore_configured_endpoint_urls=True))
    configured = session.client("s3", region_name=region)
    return bool(configured.meta.endpoint_url != aws_default.meta.endpoint_url)


class S3ImageLinks:
    """Signs time-limited URLs to image objects.

    A page signs fifty. botocore's generate_presigned_url resolves the endpoint from its
    rule set on every call (about 0.33 ms of 0.4, boto/botocore#3528), though the endpoint
    depends on the bucket only. So a bucket's first URL is boto3's, and the endpoint it
    shows is kept; every later URL is signed by botocore's own query signer on that
    endpoint: the same URL, byte for byte (tests/unit/test_s3_links.py), at about a
    quarter of the cost.
    """

    def __init__(self, client: Any, credentials: Credentials | None, default_bucket: str,
                 expires_seconds: int) -> None:
        self._client = client
        self._credentials = credentials
        self._default_bucket = default_bucket
        self._expires = expires_seconds
        self._endpoints: dict[str, tuple[str, str, str]] = {}

    def url(self, bucket: str | None, object_key: str) -> str:
        bucket = bucket or self._default_bucket
        path = percent_encode(object_key, safe="/~")
        if bucket not in self._endpoints or not object_key:  # boto3 refuses an empty key
            return self._first_url(bucket, object_key, path)
        base, service, region = self._endpoints[bucket]
        request = AWSRequest(method="GET", url=base + path)
        frozen = self._credentials.get_frozen_credentials() if self._credentials else None
        # Without credentials add_auth raises NoCredentialsError, as boto3 would.
        S3SigV4QueryAuth(frozen, service, region, expires=self._expires).add_auth(request)
        return str(request.url)

    def attach(self, image: dict[str, Any]) -> dict[str, Any]:
        """The image row with its presigned URL added."""
        return {**image, "url": self.url(image.get("bucket"), image["object_key"])}

    def _first_url(self, bucket: str, object_key: str, path: str) -> str:
        """boto3's URL, whose endpoint (the URL up to the key) and signing scope are kept."""
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": object_key}, ExpiresIn=self._expires)
        parts = urlsplit(url)
        if parts.path.endswith(path):  # else keep asking boto3
            prefix = parts.path[:len(parts.path) - len(path)]
            base = urlunsplit((parts.scheme, parts.netloc, prefix, "", ""))
            # X-Amz-Credential is key/date/region/service/aws4_request; read from the end,
            # as a key id may hold a slash (MinIO, LocalStack).
            scope = parse_qs(parts.query)["X-Amz-Credential"][0].split("/")
            self._endpoints[bucket] = (base, scope[-2], scope[-3])
        return url


def image_links(session: boto3.session.Session, region: str, public_endpoint_url: str | None,
                default_bucket: str, expires_seconds: int) -> S3ImageLinks:
    """Links signed with the session's credentials on its signing client's endpoints."""
    return S3ImageLinks(signing_client(session, region, public_endpoint_url),
                        session.get_credentials(), default_bucket, expires_seconds)


def reading_client(session: boto3.session.Session, region: str) -> Any:
    """An S3 client that reads objects; botocore retries throttling, 5xx and lost
    connections with backoff (its standard mode), and nothing else."""
    return session.client("s3", region_name=region,
                          config=Config(retries={"mode": "standard", "max_attempts": 5}))


class S3ImageReader:
    """Streams image objects: the body is read a chunk at a time and closed after."""

    def __init__(self, client: Any, default_bucket: str) -> None:
        self._client = client
        self._default_bucket = default_bucket

    def chunks(self, bucket: str | None, object_key: str) -> Iterator[bytes] | None:
        """The object's bytes in chunks; None when it is gone."""
        try:
            body = self._client.get_object(Bucket=bucket or self._default_bucket,
                                           Key=object_key)["Body"]
        except self._client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in GONE:
                return None
            raise
        return _read(body)


def _read(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()
