import asyncio
import os
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from labelgraph_devstack.ports import free_port


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labelgraph_provision", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_backend_fails_with_a_clear_message() -> None:
    port = free_port()
    result = _run(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        }
    )

    assert result.returncode == 1
    assert "provisioning failed: AWS is unreachable" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.stack
def test_running_it_on_a_provisioned_stack_changes_nothing(stack_env: dict[str, str]) -> None:
    result = _run(stack_env)

    assert result.returncode == 0, result.stderr
    assert "bucket security-alarms already exists" in result.stderr
    assert "topic image-labels.dlq already exists" in result.stderr
    assert "0 created, 0 updated, 8 already existed" in result.stderr


def test_contradicting_kafka_settings_fail_before_anything_is_created() -> None:
    port = free_port()
    result = _run({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                   "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
                   "KAFKA_SASL_PASSWORD": "never-shown-7c1"})

    assert result.returncode == 1
    assert "provisioning failed" in result.stderr
    assert "PLAIN needs KAFKA_SASL_USERNAME" in result.stderr
    assert "AWS is unreachable" not in result.stderr  # refused before reaching anything
    assert "never-shown-7c1" not in result.stderr


@pytest.mark.stack
def test_only_aws_leaves_kafka_alone(stack_env: dict[str, str]) -> None:
    result = _run({**stack_env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"},
                  "--only", "aws")

    assert result.returncode == 0, result.stderr
    assert "bucket security-alarms already exists" in result.stderr
    assert "topic" not in result.stderr


@pytest.mark.stack
def test_only_kafka_leaves_aws_alone(stack_env: dict[str, str]) -> None:
    result = _run({**stack_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"},
                  "--only", "kafka")

    assert result.returncode == 0, result.stderr
    assert "topic image-labels.dlq already exists" in result.stderr
    assert "bucket" not in result.stderr
    assert "0 created, 0 updated, 2 already existed" in result.stderr


@pytest.mark.stack
def test_a_topic_too_small_for_an_event_fails_the_run_saying_what_to_run(
        stack_env: dict[str, str]) -> None:
    topic = f"small-{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=stack_env["KAFKA_BOOTSTRAP_SERVERS"])
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 6, 1,
                                                topic_configs={"max.message.bytes": "1000"})])
        finally:
            await admin.close()

    asyncio.run(create())
    result = _run({**stack_env, "LABEL_TOPIC": topic}, "--only", "kafka")

    assert result.returncode == 1
    assert f"provisioning failed: topic {topic} takes messages of at most 1,000 bytes" \
        in result.stderr
    assert f"--entity-name {topic} --add-config max.message.bytes=1048588" in result.stderr
    assert "Traceback" not in result.stderr
