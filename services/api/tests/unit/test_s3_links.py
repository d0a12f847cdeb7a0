"""Image links signed on the endpoint of a bucket's first URL are boto3's presigned URLs,
byte for byte."""

from __future__ import annotations

import datetime
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError, ParamValidationError

from labelgraph_api.adapters.s3 import S3ImageLinks, image_links, signing_client

# Keys a camera or an attacker could name: spaces, reserved and percent signs, dot
# segments, doubled slashes, non-ASCII letters, an emoji, a no-break space.
KEYS = ["alarms/cam1/2024-05-01/12/snap 20240501-120000.jpg", "a b+c?d#e%f&g=h;i,j:k@l$m.jpg",
        "../x//y/./z", "kamera/Gärten/été/ｘ.jpg", "🙂/a\u00a0b", "~tilde/*star'quote(paren).jpg"]
NOW = datetime.datetime(2026, 12, 8, 4, 0, 0)


def session(token: str | None, key_id: str = "AKIDEXAMPLE") -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key="secret",
                                 aws_session_token=token)


@pytest.mark.parametrize("endpoint", ["http://localhost:4566", None])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
@pytest.mark.parametrize(("token", "key_id"), [(None, "AKIDEXAMPLE"),
                                               ("session-token", "AKIDEXAMPLE"),
                                               (None, "minio/user")])  # a slash in the scope
def test_links_are_boto3s_presigned_urls(monkeypatch: pytest.MonkeyPatch, endpoint: str | None,
                                         region: str, token: str | None, key_id: str) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    aws = session(token, key_id)
    links = image_links(aws, region, endpoint, "security-alarms", 900)
    boto = signing_client(aws, region, endpoint)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        for bucket in (None, "other-bucket"):
            for key in KEYS:
                expected = boto.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket or "security-alarms", "Key": key},
                    ExpiresIn=900)
                assert links.url(bucket, key) == expected


class Rotating:
    """Credentials that hand out a new session token each time they are frozen (a role's)."""

    def __init__(self) -> None:
        self.turns = 0

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        self.turns += 1
        return ReadOnlyCredentials("AKIDEXAMPLE", "secret", f"token-{self.turns}")


def test_later_links_sign_with_the_credentials_of_the_moment() -> None:
    client = signing_client(session("first"), "eu-west-1", None)
    links = S3ImageLinks(client, Rotating(), "security-alarms", 900)  # type: ignore[arg-type]
    links.url(None, KEYS[0])  # boto3's, with the client's own
    later = [parse_qs(urlsplit(links.url(None, key)).query) for key in KEYS[1:3]]
    assert [query["X-Amz-Security-Token"] for query in later] == [["token-1"], ["token-2"]]
    assert all(query["X-Amz-Expires"] == ["900"] for query in later)
    assert all(query["X-Amz-Credential"][0].endswith("/eu-west-1/s3/aws4_request")
               for query in later)


def test_without_credentials_signing_fails_as_boto3_does(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    links = image_links(boto3.session.Session(), "eu-west-1", None, "security-alarms", 900)
    with pytest.raises(NoCredentialsError):
        links.url(None, KEYS[0])


def test_the_kept_endpoint_signs_with_the_links_credentials() -> None:
    # The client signs the bucket's first URL; later ones use the links' own credentials.
    client = signing_client(session(None), "eu-west-1", None)
    links = S3ImageLinks(client, None, "security-alarms", 900)
    links.url(None, KEYS[0])
    with pytest.raises(NoCredentialsError):
        links.url(None, KEYS[1])



def test_an_empty_key_is_refused_as_boto3_refuses_it() -> None:
    links = image_links(session(None), "eu-west-1", "http://localhost:4566", "bucket", 900)
    with pytest.raises(ParamValidationError):
        links.url(None, "")
    links.url(None, KEYS[0])  # the bucket's endpoint is kept from here on
    with pytest.raises(ParamValidationError):
        links.url(None, "")
