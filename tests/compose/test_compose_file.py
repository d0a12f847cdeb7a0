"""compose.yaml, checked without a Docker engine: Compose's own parser and schema, the
build contexts, the dependency graph `up --wait` relies on, and the env each service reads."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from labelgraph_api.config import ApiSettings
from labelgraph_contract import label_table_name
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_labeler.config import LabelerSettings
from labelgraph_provision.settings import ProvisionSettings
from rekognition_stub.config import read_settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "compose.yaml"
TEST_OVERRIDE = Path(__file__).with_name("compose.test.yaml")
INFRASTRUCTURE = {"kafka", "neo4j", "localstack"}


class RecordingEnv(dict[str, str]):
    """An empty environment that remembers every variable a reader asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False


def settings_env_names(settings: type[BaseSettings]) -> set[str]:
    """The variables a pydantic Settings class reads: its aliases, else prefix + name."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names |= {str(choice).upper() for choice in choices if isinstance(choice, str)}
        if alias is None:
            names.add(f"{prefix}{name}".upper())
    return names


def asked_by(reader: Callable[[RecordingEnv], object]) -> set[str]:
    env = RecordingEnv()
    reader(env)
    return env.asked


BOTO3_COMMON = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"}

# What each compose service reads: its settings, and boto3's variables where it uses AWS.
READERS: dict[str, tuple[set[str], bool]] = {
    "labeler": (settings_env_names(LabelerSettings), True),
    "graph-writer": (settings_env_names(GraphWriterSettings), False),
    "graph-schema": (settings_env_names(GraphWriterSettings), False),
    "api": (settings_env_names(ApiSettings), True),  # presigns S3 URLs
    "provision": (asked_by(ProvisionSettings.from_env), True),
    "rekognition-stub": (asked_by(lambda env: read_settings([], env)), True),
}
SETTINGS: dict[str, type[BaseSettings]] = {
    "labeler": LabelerSettings,
    "graph-writer": GraphWriterSettings,
    "graph-schema": GraphWriterSettings,
    "api": ApiSettings,
}
IMAGE_OF = {"graph-schema": "graph-writer"}


def is_boto3_variable(name: str) -> bool:
    """boto3's own variables; AWS_ENDPOINT_URL_<SERVICE> must name a real AWS service."""
    if name in BOTO3_COMMON:
        return True
    suffix = name.removeprefix("AWS_ENDPOINT_URL_")
    services = boto3.session.Session().get_available_services()
    return suffix != name and suffix.lower().replace("_", "-") in services


def test_compose_itself_accepts_the_file_with_the_example_env(compose_cli):
    result = compose_cli("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_a_missing_password_is_refused_with_a_message_not_defaulted(compose_cli, tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_cli("config", "--quiet", env_file=empty)
    assert result.returncode != 0
    assert "NEO4J_PASSWORD is required" in result.stderr


def test_the_engine_suite_override_is_valid_too(compose_cli):
    result = compose_cli("config", "--quiet", files=(COMPOSE_FILE, TEST_OVERRIDE))
    assert result.returncode == 0, result.stderr


def test_every_service_is_known_to_these_checks(compose_model):
    assert set(compose_model["services"]) == INFRASTRUCTURE | set(READERS)


def test_every_built_service_has_its_context_and_dockerfile(compose_model, images):
    built = {name: svc["build"] for name, svc in compose_model["services"].items()
             if "build" in svc}
    assert set(built) == set(READERS), "every labelgraph service is built from this repo"
    for name, build in built.items():
        context = Path(build["context"])
        assert context == REPO, f"{name}: images build from the repository root"
        assert (context / build["dockerfile"]).is_file(), f"{name}: no {build['dockerfile']}"
        assert images[name if name in images else "graph-writer"] == build["dockerfile"]


def test_graph_schema_reuses_the_graph_writer_image(compose_model):
    services = compose_model["services"]
    assert services["graph-schema"]["image"] == services["graph-writer"]["image"]
    assert services["graph-schema"]["build"] == services["graph-writer"]["build"]
    assert services["graph-schema"]["command"] == ["schema"]


def test_every_image_is_pinned_to_a_version(compose_model):
    for name, svc in compose_model["services"].items():
        if "build" in svc:
            continue
        repository, _, tag = svc["image"].rpartition(":")
        assert repository and re.search(r"\d", tag) and tag != "latest", f"{name}: {svc['image']}"


def one_shot_jobs(services: dict[str, Any]) -> set[str]:
    return {name for name, svc in services.items() if svc.get("restart") == "no"}


def test_one_shot_jobs_are_awaited_so_up_wait_returns(compose_model):
    services = compose_model["services"]
    jobs = one_shot_jobs(services)
    assert jobs == {"provision", "graph-schema"}
    for job in jobs:
        adopters = [name for name, svc in services.items()
                    if svc.get("depends_on", {}).get(job, {}).get("condition")
                    == "service_completed_successfully" and name not in jobs]
        # `up --wait` counts an exited job as a failure unless a running service awaits it.
        assert adopters, f"no long-running service waits for {job} to complete"


def has_healthcheck(name: str, svc: dict[str, Any], dockerfiles: dict[str, Any]) -> bool:
    check = svc.get("healthcheck")
    if check is not None:
        return not check.get("disable", False) and bool(check.get("test"))
    image = Path(svc["build"]["dockerfile"]).parent.name if "build" in svc else None
    final = dockerfiles.get(image, [None])[-1] if image else None
    return bool(final and any(args != "NONE" for args in final.all("HEALTHCHECK")))


def test_long_running_services_are_health_checked_and_restarted(compose_model, dockerfiles):
    services = compose_model["services"]
    for name in set(services) - one_shot_jobs(services):
        svc = services[name]
        assert has_healthcheck(name, svc, dockerfiles), f"{name} has no health check"
        assert svc.get("restart") == "unless-stopped", f"{name}: restart {svc.get('restart')}"


@pytest.mark.parametrize("profile", ["default", "durable"])
def test_dependencies_wait_for_health_or_completion(compose_model, durable_model, dockerfiles,
                                                    durable_dockerfiles, profile):
    services = (compose_model if profile == "default" else durable_model)["services"]
    dockerfiles = {**dockerfiles, **durable_dockerfiles}
    jobs = one_shot_jobs(services)
    for name, svc in services.items():
        for dependency, spec in svc.get("depends_on", {}).items():
            if dependency not in services:
                # Optional (`required: false`): a service of a profile that is off.
                assert spec.get("required") is False, f"{name} -> {dependency}"
                continue
            wanted = ("service_completed_successfully" if dependency in jobs
                      else "service_healthy")
            assert spec["condition"] == wanted, f"{name} -> {dependency}"
            if wanted == "service_healthy":
                assert has_healthcheck(dependency, services[dependency], dockerfiles)


def test_every_labelgraph_service_waits_for_what_it_talks_to(compose_model):
    deps = {name: set(svc.get("depends_on", {}))
            for name, svc in compose_model["services"].items()}
    assert {"provision", "rekognition-stub"} <= deps["labeler"]
    assert {"provision", "graph-schema"} <= deps["graph-writer"]
    assert "graph-schema" in deps["api"]
    assert {"kafka", "localstack"} <= deps["provision"]
    assert "neo4j" in deps["graph-schema"]


def test_only_the_api_neo4j_localstack_and_kafkas_host_listener_are_on_loopback(
        compose_model):
    published = {name: svc["ports"] for name, svc in compose_model["services"].items()
                 if svc.get("ports")}
    assert set(published) == {"api", "neo4j", "localstack", "kafka"}
    targets = {(name, port["target"]) for name, ports in published.items() for port in ports}
    assert targets == {("api", 8000), ("neo4j", 7474), ("neo4j", 7687), ("localstack", 4566),
                       ("kafka", 9094)}
    for ports in published.values():
        assert all(port["host_ip"] == "127.0.0.1" for port in ports)


def test_neo4j_data_lives_on_a_volume(compose_model):
    mounts = compose_model["services"]["neo4j"]["volumes"]
    assert any(m["type"] == "volume" and m["target"] == "/data" for m in mounts)


def unknown_names(names: Iterable[str], service: str) -> list[str]:
    reads, uses_aws = READERS[service]
    return sorted(name for name in names
                  if name not in reads and not (uses_aws and is_boto3_variable(name)))


@pytest.mark.parametrize("service", sorted(READERS))
def test_each_service_is_given_only_variables_it_reads(compose_model, service):
    given = compose_model["services"][service].get("environment", {})
    assert not unknown_names(given, service), (
        f"{service} is given variables it never reads (typo?): {unknown_names(given, service)}"
    )


def container_env(compose_model: dict[str, Any], dockerfiles: dict[str, Any],
                  service: str) -> dict[str, str]:
    """What the service's process sees: its image's ENV, then compose's (unset ones dropped)."""
    final = dockerfiles[IMAGE_OF.get(service, service)][-1]
    env = dict(word.split("=", 1) for args in final.all("ENV") for word in args.split())
    given = compose_model["services"][service].get("environment", {})
    env.update({name: value for name, value in given.items() if value is not None})
    return env


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_each_service_settings_load_from_its_compose_env(compose_model, dockerfiles, service,
                                                         monkeypatch):
    settings = SETTINGS[service]
    for name in settings_env_names(settings):
        monkeypatch.delenv(name, raising=False)
    for name, value in container_env(compose_model, dockerfiles, service).items():
        monkeypatch.setenv(name, value)
    settings()  # raises on a missing required setting or a value it refuses


def test_provision_and_stub_settings_load_from_their_compose_env(compose_model, dockerfiles):
    provision = ProvisionSettings.from_env(container_env(compose_model, dockerfiles, "provision"))
    assert provision.kafka.kafka_bootstrap_servers == "kafka:9092"
    stub = read_settings([], container_env(compose_model, dockerfiles, "rekognition-stub"))
    assert (stub.host, stub.port) == ("0.0.0.0", 8900)


@pytest.mark.parametrize("service", sorted(set(READERS) - {"graph-schema"}))
def test_every_setting_can_be_set_from_env_file_or_is_fixed(compose_model, dockerfiles, service):
    """A setting compose neither passes nor sets would be silently ignored in .env."""
    reachable = set(compose_model["services"][service].get("environment", {}))
    fixed = set(container_env(compose_model, dockerfiles, service))
    missing = sorted(READERS[service][0] - reachable - fixed)
    assert not missing, (f"compose.yaml's {service} neither passes nor sets {missing}: add "
                         "`NAME:` to its environment and `# NAME=default` to .env.example")


@pytest.mark.parametrize("image", sorted(set(READERS) - {"graph-schema"}))
def test_each_image_sets_only_variables_its_service_reads(dockerfiles, image):
    runtime = {"PATH", "PYTHONUNBUFFERED"}
    names = {word.partition("=")[0] for args in dockerfiles[image][-1].all("ENV")
             for word in args.split()} - runtime
    assert not unknown_names(names, image), f"{image}'s Dockerfile sets unknown {names}"


def test_env_example_names_exactly_what_compose_interpolates(env_example):
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE_FILE.read_text()))
    passed_through = set(re.findall(r"^\s+([A-Z0-9_]+):\s*$", COMPOSE_FILE.read_text(), re.M))
    documented = set(env_example)
    assert interpolated | passed_through == documented, (
        f"only in compose.yaml: {sorted((interpolated | passed_through) - documented)}; "
        f"only in .env.example: {sorted(documented - interpolated - passed_through)}"
    )


@pytest.fixture(scope="module")
def fan_out_model(compose_cli, env_example, tmp_path_factory) -> dict[str, Any]:
    """compose.yaml with the local-detector profile and .env.example's fan-out lines set."""
    env_file = tmp_path_factory.mktemp("fan-out") / ".env"
    example = (REPO / ".env.example").read_text()
    env_file.write_text(example + "".join(f"{name}={env_example[name]}\n"
                                          for name in ("IMAGE_TOPIC_NAME", "IMAGE_QUEUE_NAMES")))
    result = compose_cli("--profile", "local-detector", "config", "--format", "json",
                         env_file=env_file)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_the_local_labeler_is_only_in_its_profile(compose_model, fan_out_model):
    assert "labeler-local" not in compose_model["services"]
    local = fan_out_model["services"]["labeler-local"]
    assert local["image"] == fan_out_model["services"]["labeler"]["image"]
    assert local["build"] == fan_out_model["services"]["labeler"]["build"]
    assert not unknown_names(local["environment"], "labeler")


def test_the_fan_out_gives_each_labeler_its_queue_and_each_detector_its_table(
        fan_out_model, dockerfiles, monkeypatch):
    services = fan_out_model["services"]
    provision = ProvisionSettings.from_env(container_env(fan_out_model, dockerfiles,
                                                         "provision"))
    labelers = {}
    for name in ("labeler", "labeler-local"):
        env = {k: v for k, v in services[name]["environment"].items() if v is not None}
        for variable in settings_env_names(LabelerSettings):
            monkeypatch.delenv(variable, raising=False)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        labelers[name] = LabelerSettings()
    assert provision.image_topic_name
    assert [queue for queue, _ in provision.upload_queues] == [
        labelers["labeler"].image_queue_name, labelers["labeler-local"].image_queue_name]
    assert [entry.kind for entry in labelers["labeler-local"].detector_entries] == [
        "ssd-mobilenet-v2-coco"]
    tables = {label_table_name(settings.label_table, entry.name)
              for settings in labelers.values() for entry in settings.detector_entries}
    assert tables <= set(provision.label_tables)


DURABLE = {"ministack": "tools/devstack/ministack/Dockerfile",
           "dynalite": "tools/devstack/dynalite/Dockerfile"}
# What the durable profile may change in a service's environment: the AWS endpoints.
ENDPOINTS = {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "API_PUBLIC_S3_ENDPOINT_URL"}


def durable_block() -> dict[str, str]:
    """The commented endpoint lines of .env.example's durable block, as a user uncomments them."""
    text = (REPO / ".env.example").read_text()
    block = text.split("# --- the durable profile", 1)[1].split("\n# ---", 1)[0]
    lines = [line.removeprefix("# ") for line in block.splitlines()
             if re.fullmatch(r"# [A-Z0-9_]+=\S+", line)]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="module")
def durable_model(compose_cli, tmp_path_factory) -> dict[str, Any]:
    """compose.yaml with the durable profile and .env.example's durable lines uncommented."""
    env_file = tmp_path_factory.mktemp("durable") / ".env"
    env_file.write_text((REPO / ".env.example").read_text() + "".join(
        f"{name}={value}\n" for name, value in durable_block().items()))
    result = compose_cli("--profile", "durable", "config", "--format", "json",
                         env_file=env_file)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_the_durable_servers_are_only_in_their_profile(compose_model, durable_model):
    assert not set(DURABLE) & set(compose_model["services"])
    assert set(durable_model["services"]) == set(compose_model["services"]) | set(DURABLE)


def test_the_durable_servers_are_built_from_the_embedded_stacks_pinned_files(durable_model):
    for name, dockerfile in DURABLE.items():
        build = durable_model["services"][name]["build"]
        assert Path(build["context"]) == REPO and build["dockerfile"] == dockerfile
        text = (REPO / dockerfile).read_text()
        # The same pins as tools/devstack: the hashed requirements, the npm lock.
        assert ("--require-hashes -r" in text) or ("npm ci" in text and "package-lock.json"
                                                   in text), dockerfile
    result = subprocess.run([str(REPO / ".venv" / "bin" / "hadolint"),
                             *(str(REPO / path) for path in DURABLE.values())],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_durable_servers_keep_their_data_on_named_volumes(durable_model,
                                                             durable_dockerfiles):
    services = durable_model["services"]
    for name in DURABLE:
        (mount,) = services[name]["volumes"]
        assert mount["type"] == "volume" and mount["target"] == "/data"
        assert mount["source"] in durable_model["volumes"]
        assert has_healthcheck(name, services[name], durable_dockerfiles)
        assert services[name]["restart"] == "unless-stopped"
    dockerfile = (REPO / DURABLE["ministack"]).read_text()
    # Objects on the volume at once; queues and notifications on a graceful stop.
    assert "S3_PERSIST=1" in dockerfile and "S3_DATA_DIR=/data/" in dockerfile
    assert "PERSIST_STATE=1" in dockerfile and "STATE_DIR=/data/" in dockerfile
    assert "--path\", \"/data\"" in (REPO / DURABLE["dynalite"]).read_text()


def test_provisioning_waits_for_the_durable_servers(durable_model):
    depends = durable_model["services"]["provision"]["depends_on"]
    for name in DURABLE:
        assert depends[name] == {"condition": "service_healthy", "required": False}


def test_only_endpoints_change_between_the_default_and_the_durable_stack(
        compose_model, durable_model):
    assert set(durable_block()) == ENDPOINTS
    for name, svc in compose_model["services"].items():
        before = svc.get("environment", {})
        after = durable_model["services"][name].get("environment", {})
        changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
        assert changed <= ENDPOINTS, f"{name}: {sorted(changed - ENDPOINTS)}"


@pytest.mark.parametrize("service", ["labeler", "api", "provision", "rekognition-stub"])
def test_every_aws_user_reaches_ministack_and_dynalite(durable_model, dockerfiles, service):
    env = container_env(durable_model, dockerfiles, service)
    assert env["AWS_ENDPOINT_URL"] == "http://ministack:4566"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://dynalite:4567"
    internal = {f"http://{name}:{port}" for name, port in (("ministack", 4566),
                                                          ("dynalite", 4567))}
    assert {env["AWS_ENDPOINT_URL"], env["AWS_ENDPOINT_URL_DYNAMODB"]} <= internal


def test_image_urls_are_signed_for_ministacks_published_port(durable_model):
    (port,) = durable_model["services"]["ministack"]["ports"]
    assert port["host_ip"] == "127.0.0.1" and port["target"] == 4566
    api = durable_model["services"]["api"]["environment"]
    assert api["API_PUBLIC_S3_ENDPOINT_URL"] == f"http://127.0.0.1:{port['published']}"
