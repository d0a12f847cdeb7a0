"""deploy/ecs, checked without AWS: each task definition is a valid RegisterTaskDefinition
request by botocore's own parameter validation (the model and checks `aws ecs
register-task-definition --cli-input-json` applies before sending), fits Fargate, probes
its service, takes its secrets from Secrets Manager, runs as the IAM role of its
deploy/iam policy, and its environment loads into the service's settings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from pydantic_settings import BaseSettings

from labelgraph_api.config import ApiSettings
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_labeler.config import LabelerSettings
from labelgraph_provision.settings import ProvisionSettings

REPO = Path(__file__).resolve().parents[2]
ECS = REPO / "deploy" / "ecs"
TASKS = ["labeler", "graph-writer", "api", "provision"]
PORTS = {"labeler": ("LABELER_OPS_PORT", 8081), "graph-writer": ("GRAPH_WRITER_OPS_PORT", 8082),
         "api": ("API_PORT", 8000)}
# What each task role is given (docs/deploy.md, "IAM permissions"), on MSK with IAM.
ROLE_POLICIES = {"labeler": ["labeler.json", "msk-producer.json"],
                 "graph-writer": ["msk-consumer.json"], "api": ["api.json"],
                 "provision": ["provision.json", "msk-provision.json"]}
SETTINGS: dict[str, type[BaseSettings]] = {
    "labeler": LabelerSettings, "graph-writer": GraphWriterSettings, "api": ApiSettings}
# Fargate's CPU units and the memory (MiB) each allows.
FARGATE = {256: {512, 1024, 2048}, 512: set(range(1024, 4097, 1024)),
           1024: set(range(2048, 8193, 1024))}
SECRETS_MANAGER = re.compile(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+"
                             r":[A-Z0-9_]+::$")


def task_definition(name: str) -> dict[str, Any]:
    return dict(json.loads((ECS / f"{name}.json").read_text()))


def validation_errors(params: dict[str, Any]) -> str:
    model = botocore.session.get_session().get_service_model("ecs")
    report = ParamValidator().validate(
        params, model.operation_model("RegisterTaskDefinition").input_shape)
    return str(report.generate_report()) if report.has_errors() else ""


def test_there_is_one_task_definition_per_service_and_provisioning():
    assert sorted(path.stem for path in ECS.glob("*.json")) == sorted(TASKS)


@pytest.mark.parametrize("name", TASKS)
def test_botocore_accepts_it_as_a_register_task_definition_request(name):
    assert not validation_errors(task_definition(name))


def test_botocore_refuses_what_ecs_would_refuse():
    """The check above can fail: an unknown field and a wrong type are reported."""
    task = task_definition("api")
    assert "Unknown parameter" in validation_errors({**task, "healthcheck": {}})
    container = {**task["containerDefinitions"][0], "portMappings": [{"containerPort": "80"}]}
    assert "Invalid type" in validation_errors({**task, "containerDefinitions": [container]})


@pytest.mark.parametrize("name", TASKS)
def test_it_fits_fargate_and_runs_as_the_image_user(name):
    task = task_definition(name)
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    assert int(task["memory"]) in FARGATE[int(task["cpu"])]
    (container,) = task["containerDefinitions"]
    assert container["user"] == "10001" and container["readonlyRootFilesystem"] is True
    version = (REPO / "VERSION").read_text().strip()
    assert container["image"].endswith(f"/labelgraph-{name}:{version}")


@pytest.mark.parametrize("name", sorted(PORTS))
def test_the_health_check_probes_the_service_health_at_its_port(name):
    (container,) = task_definition(name)["containerDefinitions"]
    variable, port = PORTS[name]
    assert [mapping["containerPort"] for mapping in container["portMappings"]] == [port]
    assert {"name": variable, "value": str(port)} in container["environment"]
    command = container["healthCheck"]["command"]
    assert command[0] == "CMD" and f"os.environ['{variable}'] + '/health'" in command[-1]


@pytest.mark.parametrize("name", TASKS)
def test_the_task_role_is_the_one_its_iam_policy_is_for(name):
    task = task_definition(name)
    role = task["taskRoleArn"].rsplit("/", 1)[1]
    assert role == f"labelgraph-{name}"
    iam = REPO / "deploy" / "iam"
    # The graph-writer makes no AWS call: its role holds only its MSK policy.
    assert all((iam / policy).is_file() for policy in ROLE_POLICIES[name])
    assert task["executionRoleArn"].endswith(":role/labelgraph-ecs-execution")


@pytest.mark.parametrize("name", TASKS)
def test_secrets_come_from_secrets_manager_never_the_environment(name):
    (container,) = task_definition(name)["containerDefinitions"]
    secrets = {secret["name"]: secret["valueFrom"] for secret in container.get("secrets", [])}
    assert all(SECRETS_MANAGER.match(arn) for arn in secrets.values()), secrets
    plain = {variable["name"] for variable in container["environment"]}
    assert not plain & {"NEO4J_PASSWORD", "API_KEYS", "KAFKA_SASL_PASSWORD",
                        "AWS_SECRET_ACCESS_KEY"}
    wanted = {"graph-writer": {"NEO4J_PASSWORD"}, "api": {"NEO4J_PASSWORD", "API_KEYS"}}
    assert set(secrets) == wanted.get(name, set())


def container_env(name: str) -> dict[str, str]:
    """The container's environment, each secret as a stand-in value."""
    (container,) = task_definition(name)["containerDefinitions"]
    env = {variable["name"]: variable["value"] for variable in container["environment"]}
    env.update({secret["name"]: "from-secrets-manager" for secret in
                container.get("secrets", [])})
    return env


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_environment_loads_into_its_settings(name, monkeypatch):
    env = container_env(name)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    SETTINGS[name]()


def test_provisioning_names_what_the_services_use():
    provision = ProvisionSettings.from_env(container_env("provision"))
    labeler = container_env("labeler")
    assert provision.image_bucket == labeler["IMAGE_BUCKET"]
    assert provision.image_queue_name == labeler["IMAGE_QUEUE_NAME"]
    assert provision.kafka.kafka_bootstrap_servers == labeler["KAFKA_BOOTSTRAP_SERVERS"]
