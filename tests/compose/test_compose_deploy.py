"""compose.yaml as a deployment sees it (issue 13): image URLs a browser on the host can
fetch, and credentials that fall through to boto3's chain when set empty."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
AWS_SERVICES = ("labeler", "api", "provision", "rekognition-stub")


def model_with(compose_cli: Any, tmp_path: Path, extra: str) -> dict[str, Any]:
    """compose.yaml resolved with .env.example plus `extra` lines (later lines win)."""
    env_file = tmp_path / ".env"
    env_file.write_text((REPO / ".env.example").read_text() + extra)
    result = compose_cli("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_image_urls_are_signed_for_localstack_as_the_host_reaches_it(compose_model):
    api = compose_model["services"]["api"]["environment"]
    (port,) = compose_model["services"]["localstack"]["ports"]
    assert api["API_PUBLIC_S3_ENDPOINT_URL"] == f"http://127.0.0.1:{port['published']}"
    assert port["host_ip"] == "127.0.0.1"
    assert api["AWS_ENDPOINT_URL"] == "http://localstack:4566"  # what the api connects to


def test_another_localstack_port_moves_the_signed_address_with_it(compose_cli, tmp_path):
    example = (REPO / ".env.example").read_text()
    without = "".join(line + "\n" for line in example.splitlines()
                      if not line.startswith("API_PUBLIC_S3_ENDPOINT_URL="))
    env_file = tmp_path / ".env"
    env_file.write_text(without.replace("LOCALSTACK_PUBLISHED_PORT=4566",
                                        "LOCALSTACK_PUBLISHED_PORT=14566"))
    result = compose_cli("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["api"]["environment"]["API_PUBLIC_S3_ENDPOINT_URL"] == (
        "http://127.0.0.1:14566")
    assert services["localstack"]["ports"][0]["published"] == "14566"


def credentials_seen(environment: dict[str, str | None], monkeypatch: pytest.MonkeyPatch,
                     tmp_path: Path) -> tuple[str, str]:
    """(access key, method) boto3 resolves in a container given `environment`, with a
    shared credentials file standing in for the rest of the chain (an instance role)."""
    chain = tmp_path / "credentials"
    chain.write_text("[default]\naws_access_key_id = AKIAFROMTHECHAIN\n"
                     "aws_secret_access_key = from-the-chain\n")
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        if value is not None and name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(chain))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    credentials = boto3.session.Session().get_credentials()
    assert credentials is not None
    return credentials.access_key, credentials.method


@pytest.mark.parametrize("service", AWS_SERVICES)
def test_empty_keys_fall_through_to_the_credential_chain(compose_cli, tmp_path, monkeypatch,
                                                         service):
    model = model_with(compose_cli, tmp_path,
                       "AWS_ACCESS_KEY_ID=\nAWS_SECRET_ACCESS_KEY=\nAWS_ENDPOINT_URL=\n")
    environment = model["services"][service]["environment"]
    assert environment["AWS_ACCESS_KEY_ID"] == ""
    assert credentials_seen(environment, monkeypatch, tmp_path) == (
        "AKIAFROMTHECHAIN", "shared-credentials-file")


@pytest.mark.parametrize("service", AWS_SERVICES)
def test_unset_keys_are_localstacks_dummy_ones(compose_cli, tmp_path, monkeypatch, service):
    example = (REPO / ".env.example").read_text()
    env_file = tmp_path / "unset.env"
    env_file.write_text("".join(line + "\n" for line in example.splitlines()
                                if not line.startswith(("AWS_ACCESS_KEY_ID=",
                                                        "AWS_SECRET_ACCESS_KEY="))))
    result = compose_cli("config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout)["services"][service]["environment"]
    assert credentials_seen(environment, monkeypatch, tmp_path) == ("test", "env")


def test_empty_endpoints_send_every_client_to_aws(compose_cli, tmp_path, monkeypatch):
    model = model_with(compose_cli, tmp_path,
                       "AWS_ENDPOINT_URL=\nAWS_ENDPOINT_URL_REKOGNITION=\n"
                       "API_PUBLIC_S3_ENDPOINT_URL=\nAWS_DEFAULT_REGION=eu-west-1\n")
    environment = model["services"]["labeler"]["environment"]
    credentials_seen(environment, monkeypatch, tmp_path)  # sets the container's AWS_* env
    session = boto3.session.Session()
    for service in ("s3", "sqs", "dynamodb", "rekognition"):
        endpoint = session.client(service).meta.endpoint_url
        assert endpoint.endswith(".amazonaws.com"), (service, endpoint)
    assert model["services"]["api"]["environment"]["API_PUBLIC_S3_ENDPOINT_URL"] == ""
