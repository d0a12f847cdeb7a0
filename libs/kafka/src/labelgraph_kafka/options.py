"""KafkaSettings -> the keyword arguments of every aiokafka client (producer, consumer, admin)."""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from labelgraph_kafka.auto_create import never_auto_create_topics
from labelgraph_kafka.msk_iam import MskIamTokenProvider
from labelgraph_kafka.settings import (
    PASSWORD_MECHANISMS,
    SASL_PROTOCOLS,
    TLS_PROTOCOLS,
    KafkaSettings,
)


def kafka_client_options(settings: KafkaSettings) -> dict[str, Any]:
    """bootstrap_servers, security_protocol and, as the protocol needs them, ssl_context and
    the sasl_* arguments. Holds the password in clear: hand it to a client, never log it.

    Every client is made from these options, so this is also where topic auto-creation is
    turned off for all of them (aiokafka has no per-client option: see auto_create)."""
    never_auto_create_topics()
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers,
                               "security_protocol": protocol}
    if protocol in TLS_PROTOCOLS:
        options["ssl_context"] = _ssl_context(settings)
    if protocol in SASL_PROTOCOLS:
        options.update(_sasl_options(settings))
    return options


def _ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    key_password = settings.kafka_ssl_key_password
    # No CA file: the system's trust store, which MSK's and Confluent Cloud's CAs are in.
    return create_ssl_context(
        cafile=settings.kafka_ssl_ca_file, certfile=settings.kafka_ssl_cert_file,
        keyfile=settings.kafka_ssl_key_file,
        password=key_password.get_secret_value() if key_password else None)


def _sasl_options(settings: KafkaSettings) -> dict[str, Any]:
    mechanism = settings.kafka_sasl_mechanism
    if mechanism in PASSWORD_MECHANISMS:
        assert settings.kafka_sasl_password is not None  # checked by KafkaSettings
        return {"sasl_mechanism": mechanism,
                "sasl_plain_username": settings.kafka_sasl_username,
                "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()}
    # OAUTHBEARER: aws-msk-iam is the one provider KafkaSettings accepts.
    return {"sasl_mechanism": "OAUTHBEARER",
            "sasl_oauth_token_provider": MskIamTokenProvider(settings.aws_default_region)}
