"""compose.yaml as a deployment sees it (issue 13): image URLs a browser on the host can
fetch, and credentials that fall through to boto3's chain when set empty."""

from __future__ import annotations

import json
import os
import subprocess
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


def published_port(service: dict[str, Any], target: int) -> str:
    (port,) = [port for port in service["ports"] if port["target"] == target]
    assert port["host_ip"] == "127.0.0.1"
    return str(port["published"])


@pytest.mark.parametrize("bolt_port", [None, "17687"])
def test_neo4j_advertises_bolt_at_the_published_port(compose_cli, tmp_path, bolt_port):
    extra = f"NEO4J_BOLT_PORT={bolt_port}\n" if bolt_port else ""
    neo4j = model_with(compose_cli, tmp_path, extra)["services"]["neo4j"]
    advertised = neo4j["environment"]["NEO4J_server_bolt_advertised__address"]
    assert advertised == f"127.0.0.1:{published_port(neo4j, 7687)}"
    assert advertised.endswith(bolt_port or "7687")


def listeners(value: str) -> dict[str, str]:
    return dict(entry.split("://", 1) for entry in value.split(","))


@pytest.mark.parametrize("kafka_port", [None, "19094"])
def test_kafka_advertises_a_host_listener_at_its_published_port(compose_cli, tmp_path,
                                                                 kafka_port):
    extra = f"KAFKA_PUBLISHED_PORT={kafka_port}\n" if kafka_port else ""
    kafka = model_with(compose_cli, tmp_path, extra)["services"]["kafka"]
    env = kafka["environment"]
    bound, advertised = listeners(env["KAFKA_LISTENERS"]), listeners(
        env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
                     .split(","))
    assert bound["HOST"] == ":9094" and protocols["HOST"] == "PLAINTEXT"
    assert advertised["HOST"] == f"127.0.0.1:{published_port(kafka, 9094)}"
    assert advertised["HOST"].endswith(kafka_port or "9094")
    # The containers keep their own listener, and the brokers talk over it.
    assert advertised["PLAINTEXT"] == "kafka:9092"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"


def make_up(tmp_path: Path, env_line: str, shell: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`make up` with a stand-in for Compose that only echoes, over an env file of its own."""
    env_file = tmp_path / "check.env"
    env_file.write_text(f"API_KEYS=k\n{env_line}\n")
    return subprocess.run(
        ["make", "-s", "-C", str(REPO), "up", f"ENV_FILE={env_file}", "COMPOSE=echo compose"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ["PATH"], **(shell or {})})


@pytest.mark.parametrize("line", ["NEO4J_PASSWORD=short", 'NEO4J_PASSWORD="1234567"',
                                  "NEO4J_PASSWORD="])
def test_make_up_refuses_a_password_neo4j_would_refuse_with_a_clear_message(tmp_path, line):
    result = make_up(tmp_path, line)
    assert result.returncode != 0
    assert "Neo4j needs at least 8" in result.stderr
    assert "compose" not in result.stdout  # stopped before compose ran


@pytest.mark.parametrize("line", ["NEO4J_PASSWORD=long-enough", 'NEO4J_PASSWORD="12345678"'])
def test_make_up_passes_a_long_enough_password_on_to_compose(tmp_path, line):
    result = make_up(tmp_path, line)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"compose --env-file {tmp_path / 'check.env'} up")


def test_make_up_checks_the_shells_password_first_as_compose_would_use_it(tmp_path):
    assert make_up(tmp_path, "NEO4J_PASSWORD=long-enough",
                   shell={"NEO4J_PASSWORD": "short"}).returncode != 0
    assert make_up(tmp_path, "NEO4J_PASSWORD=short",
                   shell={"NEO4J_PASSWORD": "long-enough"}).returncode == 0
