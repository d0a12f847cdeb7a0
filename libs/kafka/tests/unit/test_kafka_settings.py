"""What each Kafka setting turns into for aiokafka, and what is refused before any connection."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from labelgraph_kafka import KafkaSettings, MskIamTokenProvider, kafka_client_options

PASSWORD = "pw-that-must-never-show-9f3c"


def settings(**env: str) -> KafkaSettings:
    return KafkaSettings.from_env(env)


def test_plaintext_by_default_gives_only_servers_and_protocol():
    assert kafka_client_options(settings()) == {
        "bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_the_process_environment_is_read(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b-1.example:9096")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    options = kafka_client_options(KafkaSettings())
    assert (options["bootstrap_servers"], options["security_protocol"]) == \
        ("b-1.example:9096", "SSL")


def test_ssl_without_ca_file_trusts_the_system_store():
    options = kafka_client_options(settings(KAFKA_SECURITY_PROTOCOL="SSL"))
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.cert_store_stats()["x509_ca"] == ssl.create_default_context() \
        .cert_store_stats()["x509_ca"]
    assert not any(key.startswith("sasl") for key in options)


def test_ssl_with_ca_file_trusts_that_ca(authority):
    context = kafka_client_options(settings(
        KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=str(authority.ca_file)))["ssl_context"]
    issuers = [dict(entry[0] for entry in cert["subject"]) for cert in context.get_ca_certs()]
    assert {"commonName": "labelgraph-test"} in issuers


def test_mutual_tls_loads_the_client_certificate(authority):
    options = kafka_client_options(settings(
        KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=str(authority.ca_file),
        KAFKA_SSL_CERT_FILE=str(authority.client_cert),
        KAFKA_SSL_KEY_FILE=str(authority.client_key)))
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_a_key_that_is_not_the_certificates_is_refused(authority, stranger):
    with pytest.raises(ssl.SSLError):
        kafka_client_options(settings(
            KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CERT_FILE=str(authority.client_cert),
            KAFKA_SSL_KEY_FILE=str(stranger.client_key)))


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_password_mechanisms_pass_user_and_password(protocol, mechanism):
    options = kafka_client_options(settings(
        KAFKA_SECURITY_PROTOCOL=protocol, KAFKA_SASL_MECHANISM=mechanism,
        KAFKA_SASL_USERNAME="svc-labeler", KAFKA_SASL_PASSWORD=PASSWORD))
    assert options["security_protocol"] == protocol
    assert (options["sasl_mechanism"], options["sasl_plain_username"],
            options["sasl_plain_password"]) == (mechanism, "svc-labeler", PASSWORD)
    assert ("ssl_context" in options) == (protocol == "SASL_SSL")


def test_msk_iam_passes_a_token_provider_for_the_region():
    options = kafka_client_options(settings(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM="OAUTHBEARER",
        KAFKA_SASL_OAUTH_PROVIDER="aws-msk-iam", AWS_DEFAULT_REGION="eu-west-1"))
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    assert isinstance(options["sasl_oauth_token_provider"], MskIamTokenProvider)
    assert "sasl_plain_password" not in options


def test_msk_iam_token_is_signed_for_the_region_with_the_credential_chain(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    token = asyncio.run(MskIamTokenProvider("eu-west-1").token())
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")


def test_msk_iam_token_is_reused_until_shortly_before_it_expires():
    now = [1_000.0]
    signed: list[str] = []

    def sign(region: str) -> tuple[str, int]:
        signed.append(region)
        return f"token-{len(signed)}", int((now[0] + 900) * 1000)

    provider = MskIamTokenProvider("us-east-2", sign=sign, clock=lambda: now[0])

    async def tokens_at(*times: float) -> list[str]:
        handed = []
        for moment in times:
            now[0] = moment
            handed.append(await provider.token())
        return handed

    assert asyncio.run(tokens_at(1_000, 1_500, 1_839, 1_841)) == \
        ["token-1", "token-1", "token-1", "token-2"]
    assert signed == ["us-east-2", "us-east-2"]


def test_empty_values_count_as_unset():
    # compose passes unset variables through as empty strings
    assert kafka_client_options(settings(
        KAFKA_SASL_MECHANISM="", KAFKA_SASL_PASSWORD="", KAFKA_SSL_CA_FILE="")) == {
        "bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(("env", "says"), [
    ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "KAFKA_SASL_MECHANISM is set but "
     "KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "u"},
     "KAFKA_SASL_USERNAME is set but KAFKA_SECURITY_PROTOCOL is SSL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL_SSL needs KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
      "KAFKA_SASL_PASSWORD": "p"}, "PLAIN needs KAFKA_SASL_USERNAME"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
      "KAFKA_SASL_USERNAME": "u"}, "SCRAM-SHA-512 needs KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
     "OAUTHBEARER needs KAFKA_SASL_OAUTH_PROVIDER"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
      "KAFKA_SASL_OAUTH_PROVIDER": "aws-msk-iam", "KAFKA_SASL_PASSWORD": "p"},
     "OAUTHBEARER takes a token, not KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
      "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p",
      "KAFKA_SASL_OAUTH_PROVIDER": "aws-msk-iam"}, "only for OAUTHBEARER, not PLAIN"),
    ({"KAFKA_SSL_CA_FILE": "/etc/hostname"}, "KAFKA_SSL_CA_FILE is set but "
     "KAFKA_SECURITY_PROTOCOL PLAINTEXT does not use TLS"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_FILE": "/nonexistent/ca.pem"},
     "KAFKA_SSL_CA_FILE /nonexistent/ca.pem is not a readable file"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_FILE": "/etc/hostname"},
     "KAFKA_SSL_KEY_FILE needs KAFKA_SSL_CERT_FILE"),
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
     "KAFKA_SASL_MECHANISM"),
])
def test_contradictions_are_refused_with_the_setting_named(env, says):
    with pytest.raises(ValidationError) as refused:
        settings(**env)
    assert says.lower() in str(refused.value).lower()


def test_a_directory_is_not_a_ca_file(tmp_path: Path):
    with pytest.raises(ValidationError, match="is not a readable file"):
        settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=str(tmp_path))


def test_secrets_never_show_in_repr_str_or_dump():
    configured = settings(KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM="PLAIN",
                          KAFKA_SASL_USERNAME="key", KAFKA_SASL_PASSWORD=PASSWORD)
    shown = [repr(configured), str(configured), configured.model_dump_json(),
             str(configured.model_dump())]
    assert all(PASSWORD not in text for text in shown)
    assert "**********" in repr(configured)


@pytest.mark.parametrize("env", [
    {},  # PLAINTEXT: a password is refused
    {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},  # no user
])
def test_a_refusal_does_not_echo_the_password(env):
    short = "pw-9f3c"  # pydantic shortens long inputs in its messages: a short one shows
    with pytest.raises(ValidationError) as refused:
        settings(**env, KAFKA_SASL_PASSWORD=short)
    assert short not in str(refused.value)


def test_a_client_built_from_the_options_does_not_log_the_password(caplog):
    options = kafka_client_options(settings(
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1", KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-256", KAFKA_SASL_USERNAME="u",
        KAFKA_SASL_PASSWORD=PASSWORD))
    caplog.set_level(logging.DEBUG)

    async def start_and_fail() -> str:
        producer = AIOKafkaProducer(**options, request_timeout_ms=1000)
        try:
            await producer.start()
        except Exception as error:  # nothing listens on port 1
            return repr(error)
        finally:
            await producer.stop()
        return "started"

    failure = asyncio.run(start_and_fail())
    assert failure != "started"
    assert caplog.records, "the client logged nothing: the check would prove nothing"
    assert PASSWORD not in caplog.text + failure
