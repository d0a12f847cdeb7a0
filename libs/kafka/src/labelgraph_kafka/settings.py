"""The Kafka connection settings every labelgraph client reads from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
OAuthProvider = Literal["aws-msk-iam"]

SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
PASSWORD_MECHANISMS = frozenset({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
_OPTIONAL = ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password",
             "kafka_sasl_oauth_provider", "kafka_ssl_ca_file", "kafka_ssl_cert_file",
             "kafka_ssl_key_file", "kafka_ssl_key_password")


class KafkaSettings(BaseSettings):
    """How to reach the Kafka cluster: servers, TLS, SASL. Services' settings extend it."""

    # hide_input_in_errors: a refusal would otherwise quote the password it was given.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True,
                                      hide_input_in_errors=True)

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", min_length=1, max_length=4096,
        description="Kafka bootstrap servers, comma-separated host:port.")
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (TLS).")
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        None, description="With a SASL protocol: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or "
        "OAUTHBEARER.")
    kafka_sasl_username: str | None = Field(
        None, max_length=1024, description="User (or API key) for PLAIN and SCRAM.")
    kafka_sasl_password: SecretStr | None = Field(
        None, max_length=4096, description="Password (or API secret) for PLAIN and SCRAM.")
    kafka_sasl_oauth_provider: OAuthProvider | None = Field(
        None, description="Token source of OAUTHBEARER: aws-msk-iam (Amazon MSK IAM, "
        "signed with the AWS credentials for AWS_DEFAULT_REGION).")
    kafka_ssl_ca_file: Path | None = Field(
        None, description="PEM file of the CAs that sign the brokers' certificates "
        "(default: the system's trust store).")
    kafka_ssl_cert_file: Path | None = Field(
        None, description="PEM client certificate, for brokers that require mutual TLS.")
    kafka_ssl_key_file: Path | None = Field(
        None, description="PEM private key of the client certificate (if not in its file).")
    kafka_ssl_key_password: SecretStr | None = Field(
        None, max_length=4096, description="Password of the client certificate's key.")
    aws_default_region: str = Field(
        "us-east-1", max_length=64, description="AWS region (MSK IAM tokens are signed for it).")

    @field_validator(*_OPTIONAL, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # compose passes `${KAFKA_SASL_MECHANISM:-}` as an empty string when it is unset.
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        problems = connection_problems(self)
        if problems:
            raise ValueError("Kafka settings: " + "; ".join(problems))
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> KafkaSettings:
        """Read only `environ` (not the process environment): for callers without
        pydantic-settings' sources, such as provision's mapping-driven settings."""
        names = {name.upper(): name for name in cls.model_fields}
        found = {names[key]: value for key in names if (value := environ.get(key)) is not None}
        return cls.model_validate(found)


def connection_problems(settings: KafkaSettings) -> list[str]:
    """Every setting that contradicts another or cannot work, in words a deployer acts on."""
    return [*_sasl_problems(settings), *_tls_problems(settings)]


def _sasl_problems(settings: KafkaSettings) -> list[str]:
    protocol, mechanism = settings.kafka_security_protocol, settings.kafka_sasl_mechanism
    if protocol not in SASL_PROTOCOLS:
        stray = [name for name in ("kafka_sasl_mechanism", "kafka_sasl_username",
                                   "kafka_sasl_password", "kafka_sasl_oauth_provider")
                 if getattr(settings, name) is not None]
        return [f"{name.upper()} is set but KAFKA_SECURITY_PROTOCOL is {protocol}: use "
                "SASL_SSL (or SASL_PLAINTEXT)" for name in stray]
    if mechanism is None:
        return [f"KAFKA_SECURITY_PROTOCOL {protocol} needs KAFKA_SASL_MECHANISM "
                "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)"]
    if mechanism in PASSWORD_MECHANISMS:
        problems = [f"KAFKA_SASL_MECHANISM {mechanism} needs {name}"
                    for name in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")
                    if getattr(settings, name.lower()) is None]
        if settings.kafka_sasl_oauth_provider is not None:
            problems.append(f"KAFKA_SASL_OAUTH_PROVIDER is only for OAUTHBEARER, not {mechanism}")
        return problems
    problems = [f"OAUTHBEARER takes a token, not {name}"
                for name in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")
                if getattr(settings, name.lower()) is not None]
    if settings.kafka_sasl_oauth_provider is None:
        problems.append("OAUTHBEARER needs KAFKA_SASL_OAUTH_PROVIDER (aws-msk-iam)")
    return problems


def _tls_problems(settings: KafkaSettings) -> list[str]:
    files = {"KAFKA_SSL_CA_FILE": settings.kafka_ssl_ca_file,
             "KAFKA_SSL_CERT_FILE": settings.kafka_ssl_cert_file,
             "KAFKA_SSL_KEY_FILE": settings.kafka_ssl_key_file}
    given = {name: path for name, path in files.items() if path is not None}
    protocol = settings.kafka_security_protocol
    if protocol not in TLS_PROTOCOLS:
        names = [*given, *(["KAFKA_SSL_KEY_PASSWORD"] if settings.kafka_ssl_key_password else [])]
        return [f"{name} is set but KAFKA_SECURITY_PROTOCOL {protocol} does not use TLS: "
                "use SSL or SASL_SSL" for name in names]
    problems = [f"{name} {path} is not a readable file" for name, path in given.items()
                if not _readable(path)]
    if settings.kafka_ssl_cert_file is None:
        problems += [f"{name} needs KAFKA_SSL_CERT_FILE (the client certificate)"
                     for name in ("KAFKA_SSL_KEY_FILE", "KAFKA_SSL_KEY_PASSWORD")
                     if getattr(settings, name.lower()) is not None]
    return problems


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return path.is_file()
    except OSError:
        return False
