"""Presigned image URLs as real AWS and a browser beside compose need them (issue 13)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto.server import ThreadedMotoServer

from labelgraph_api.adapters.s3 import image_links
from labelgraph_api.config import ApiSettings

KEY = "alarms/cam1/2024-05-01/12/snap 20240501-120000.jpg"


@pytest.fixture
def no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


def signed(region: str, public_endpoint: str | None, bucket: str = "security-alarms") -> str:
    return image_links(boto3.session.Session(), region, public_endpoint, bucket, 900).url(None, KEY)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_without_an_override_urls_are_sigv4_and_virtual_hosted_on_aws(
        no_endpoint_override: None, region: str) -> None:
    url = urlsplit(signed(region, None))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc) == ("https", f"security-alarms.s3.{region}.amazonaws.com")
    assert url.path == "/alarms/cam1/2024-05-01/12/snap%2020240501-120000.jpg"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].endswith(f"/{region}/s3/aws4_request")
    assert query["X-Amz-Expires"] == ["900"]
    assert "Signature" not in query and "AWSAccessKeyId" not in query  # no SigV2


def test_a_bucket_outside_us_east_1_is_never_signed_for_the_global_host(
        no_endpoint_override: None) -> None:
    assert urlsplit(signed("ap-southeast-2", None)).netloc == (
        "security-alarms.s3.ap-southeast-2.amazonaws.com")


def test_the_public_endpoint_is_signed_path_style_whatever_the_api_connects_to(
        no_endpoint_override: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    url = urlsplit(signed("us-east-1", "http://127.0.0.1:4566"))
    assert (url.scheme, url.netloc) == ("http", "127.0.0.1:4566")
    assert url.path.startswith("/security-alarms/alarms/cam1/")
    assert parse_qs(url.query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def test_without_a_public_endpoint_the_api_endpoint_is_signed_path_style(
        no_endpoint_override: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    url = urlsplit(signed("us-east-1", None))
    assert url.netloc == "localstack:4566" and url.path.startswith("/security-alarms/")


@pytest.fixture
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_a_url_signed_for_the_public_endpoint_fetches_the_image(
        no_endpoint_override: None, monkeypatch: pytest.MonkeyPatch, s3_server: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://unreachable.invalid:4566")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=s3_server)
    s3.create_bucket(Bucket="security-alarms")
    s3.put_object(Bucket="security-alarms", Key=KEY, Body=b"\xff\xd8jpeg")
    with urllib.request.urlopen(signed("us-east-1", s3_server), timeout=10) as answer:
        assert answer.read() == b"\xff\xd8jpeg"


@pytest.mark.parametrize(("value", "expected"), [
    ("", None), ("http://127.0.0.1:4566", "http://127.0.0.1:4566")])
def test_the_public_endpoint_setting_treats_empty_as_unset(
        monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None) -> None:
    monkeypatch.setenv("API_PUBLIC_S3_ENDPOINT_URL", value)
    settings = ApiSettings(neo4j_password="x" * 8, insecure_no_auth=True)  # type: ignore[call-arg]
    assert settings.public_s3_endpoint_url == expected


def test_the_public_endpoint_setting_refuses_what_is_not_an_http_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PUBLIC_S3_ENDPOINT_URL", "javascript:alert(1)")
    with pytest.raises(ValueError, match="API_PUBLIC_S3_ENDPOINT_URL"):
        ApiSettings(neo4j_password="x" * 8, insecure_no_auth=True)  # type: ignore[call-arg]
