"""deploy/k8s, checked without a cluster: the real `kubectl kustomize` (kustomize 5.7.1 in
kubectl 1.35.2, `make kubectl`) renders the base and the example overlay, every object
validates against the official Kubernetes 1.35 schemas (kubernetes-validate, strict, which
ships them), and each container's environment loads into its service's own settings."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_schemas
from pydantic_settings import BaseSettings

from labelgraph_api.config import ApiSettings
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_labeler.config import LabelerSettings
from labelgraph_provision.settings import ProvisionSettings

REPO = Path(__file__).resolve().parents[2]
KUBECTL = REPO / ".tools" / "kubectl" / "kubectl"
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.35.0"
SERVICES = {"labeler": 8081, "graph-writer": 8082, "api": 8000}
SETTINGS: dict[str, type[BaseSettings]] = {
    "labeler": LabelerSettings, "graph-writer": GraphWriterSettings,
    "graph-schema": GraphWriterSettings, "api": ApiSettings}
SECRETS = {"labelgraph-neo4j": "NEO4J_PASSWORD", "labelgraph-api-keys": "API_KEYS"}
IRSA = "eks.amazonaws.com/role-arn"


def kustomize(folder: Path) -> list[dict[str, Any]]:
    assert KUBECTL.exists(), "no kubectl: run `make kubectl`"
    result = subprocess.run([str(KUBECTL), "kustomize", str(folder)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return kustomize(K8S / "base")


@pytest.fixture(scope="module")
def overlay() -> list[dict[str, Any]]:
    return kustomize(K8S / "overlays" / "example")


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each Deployment's and Job's pod spec, by the workload's name."""
    return {name: doc["spec"]["template"]["spec"] for kind in ("Deployment", "Job")
            for name, doc in of_kind(docs, kind).items()}


@pytest.mark.parametrize("tree", ["base", "overlay"])
def test_every_object_validates_against_the_kubernetes_schemas(tree, request):
    docs = request.getfixturevalue(tree)
    assert {"Deployment", "Job", "Service", "ServiceAccount", "ConfigMap"} <= {
        doc["kind"] for doc in docs}
    for doc in docs:
        kubernetes_schemas.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_what_the_schemas_refuse(base):
    """The check above can fail: a misspelt field and a wrong type are refused."""
    deployment = of_kind(base, "Deployment")["api"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for broken in ({**container, "readinesProbe": container["readinessProbe"]},
                   {**container, "ports": [{"containerPort": "eight thousand"}]}):
        spec = {**deployment["spec"]["template"]["spec"], "containers": [broken]}
        doc = {**deployment, "spec": {**deployment["spec"], "template": {
            **deployment["spec"]["template"], "spec": spec}}}
        with pytest.raises(kubernetes_schemas.ValidationError):
            kubernetes_schemas.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_is_probed_on_health_and_ready_at_its_port(base, service):
    (container,) = pod_specs(base)[service]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    probes = {kind: container[kind]["httpGet"] for kind in
              ("livenessProbe", "readinessProbe", "startupProbe")}
    assert probes["livenessProbe"]["path"] == "/health"
    assert probes["readinessProbe"]["path"] == "/ready"
    assert probes["startupProbe"]["path"] == "/health"
    assert {ports[probe["port"]] for probe in probes.values()} == {SERVICES[service]}


def container_env(docs: list[dict[str, Any]], workload: str) -> dict[str, str]:
    """What the container's process sees: its ConfigMaps, then its env; secrets faked."""
    (container,) = pod_specs(docs)[workload]["containers"]
    config_maps = of_kind(docs, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        secret = variable.get("valueFrom", {}).get("secretKeyRef")
        env[variable["name"]] = "from-a-secret-8+" if secret else variable["value"]
    return env


@pytest.mark.parametrize("tree", ["base", "overlay"])
@pytest.mark.parametrize("workload", sorted(SETTINGS))
def test_each_container_env_loads_into_its_settings(tree, workload, request, monkeypatch):
    env = container_env(request.getfixturevalue(tree), workload)
    for name in env:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    SETTINGS[workload]()  # raises on a missing required setting or a value it refuses


@pytest.mark.parametrize("tree", ["base", "overlay"])
def test_provision_env_loads_and_names_what_the_services_use(tree, request):
    docs = request.getfixturevalue(tree)
    provision = ProvisionSettings.from_env(container_env(docs, "provision"))
    labeler = container_env(docs, "labeler")
    assert provision.image_bucket == labeler["IMAGE_BUCKET"]
    assert provision.kafka.kafka_bootstrap_servers == labeler["KAFKA_BOOTSTRAP_SERVERS"]


def test_the_overlay_trusts_its_ingress_for_forwarded_headers(base, overlay):
    assert container_env(base, "api")["API_TRUSTED_PROXIES"] == ""
    trusted = container_env(overlay, "api")["API_TRUSTED_PROXIES"]
    assert trusted
    ingress = of_kind(overlay, "Ingress")["api"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] in of_kind(overlay, "Service")


def test_secrets_come_from_the_two_named_secrets_only(base):
    refs = {(ref["name"], ref["key"]) for spec in pod_specs(base).values()
            for container in spec["containers"] for variable in container.get("env", [])
            if (ref := variable.get("valueFrom", {}).get("secretKeyRef"))}
    assert refs == set(SECRETS.items())
    config = next(iter(of_kind(base, "ConfigMap").values()))["data"]
    assert not set(config) & set(SECRETS.values()), "a secret in the ConfigMap"
    docs = (REPO / "docs" / "deploy.md").read_text()
    for secret, key in SECRETS.items():
        assert f"create secret generic {secret} --from-literal={key}=" in docs, secret


def test_each_workload_has_its_own_service_account_with_an_iam_role(base, overlay):
    for docs in (base, overlay):
        accounts = of_kind(docs, "ServiceAccount")
        names = {name: spec["serviceAccountName"] for name, spec in pod_specs(docs).items()}
        services = {names[name] for name in ("labeler", "graph-writer", "api", "provision")}
        assert len(services) == 4 and services <= set(accounts)
        assert all(IRSA in accounts[name]["metadata"]["annotations"] for name in services)
    overlay_roles = {account["metadata"]["annotations"][IRSA]
                     for account in of_kind(overlay, "ServiceAccount").values()}
    assert not any(":000000000000:" in role for role in overlay_roles), (
        "the overlay keeps a placeholder role")


@pytest.mark.parametrize("tree", ["base", "overlay"])
def test_every_container_requests_cpu_and_memory_and_limits_memory(tree, request):
    for name, spec in pod_specs(request.getfixturevalue(tree)).items():
        for container in spec["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert "memory" in resources["limits"], name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("tree", ["base", "overlay"])
def test_images_carry_the_release_version(tree, request):
    version = (REPO / "VERSION").read_text().strip()
    for spec in pod_specs(request.getfixturevalue(tree)).values():
        for container in spec["containers"]:
            assert container["image"].rpartition(":")[2] == version, container["image"]
