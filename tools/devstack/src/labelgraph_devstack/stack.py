"""The embedded stack: the four stand-ins on free loopback ports, provisioned and ready."""

from __future__ import annotations

import atexit
import os
import shutil
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex
from types import TracebackType
from typing import TYPE_CHECKING

from labelgraph_devstack import aws, dynalite, envfile, graph, kafka, ministack, rekognition
from labelgraph_devstack.clients import aws_client, aws_clients
from labelgraph_devstack.durable import TANSU_BUCKET, StateLayout, ensure_bucket, graph_passwords
from labelgraph_devstack.errors import ComponentStartError, DevstackError
from labelgraph_devstack.lock import StateLock
from labelgraph_devstack.ports import HOST, ensure_free, free_ports
from labelgraph_devstack.probes import LOOPBACK_HTTP
from labelgraph_devstack.process import ManagedProcess, Spawner, log_tail
from labelgraph_devstack.spec import ComponentSpec

if TYPE_CHECKING:
    from labelgraph_provision import ProvisionReport

ENV_FILE = "stack.env"
REGION = "us-east-1"
# moto accepts any credentials; these are the values its documentation uses.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class StackPorts:
    """Ports to use instead of free ones picked at start (each must then be free)."""

    kafka: int | None = None
    bolt: int | None = None
    arcadedb_http: int | None = None
    moto: int | None = None
    rekognition: int | None = None
    dynamodb: int | None = None  # the durable stack's alone


def default_state_dir() -> Path:
    """$DEVSTACK_DIR, else .devstack/ in the workspace root (found by its uv.lock)."""
    configured = os.environ.get("DEVSTACK_DIR")
    if configured:
        return Path(configured)
    cwd = Path.cwd()
    root = next((d for d in (cwd, *cwd.parents) if (d / "uv.lock").is_file()), cwd)
    return root / ".devstack"


class EmbeddedStack:
    """Tansu, ArcadeDB, AWS stand-ins and the Rekognition stub, started and stopped together.

    In memory (the default, for tests): everything is fresh per start. Tansu and moto keep
    state in memory and the graph's data directory is wiped, so a stack never inherits a
    previous run. Within one run the graph keeps its data across stop_graph/start_graph;
    Kafka has no such restart (a restarted broker would come back empty).

    Durable (`make run`): ministack serves S3/SQS/SNS, dynalite DynamoDB, Tansu keeps its
    topics in ministack's S3, and all of it, the graph too, lives in `<state_dir>/state/`:
    a start after a stop or a SIGKILL carries on where the last one ended.
    start() provisions synchronously: call it outside a running event loop.
    """

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        ports: StackPorts | None = None,
        graph_heap: str | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        durable: bool = False,
    ) -> None:
        # Absolute: the servers run with the state dir as their working directory, so a
        # relative path handed to them would point somewhere else.
        chosen = Path(state_dir) if state_dir is not None else default_state_dir()
        self.state_dir = chosen.resolve()
        self._ports = ports or StackPorts()
        self._graph_heap = graph_heap
        self.durable = durable
        self.layout = StateLayout.inside(self.state_dir)
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._lock = StateLock(self.state_dir)
        self._specs: dict[str, ComponentSpec] = {}
        self._running: dict[str, ManagedProcess] = {}
        self._spawner: Spawner | None = None
        self._env: dict[str, str] = {}
        self._graph_access: graph.GraphAccess | None = None
        self.provision_report: ProvisionReport | None = None
        self.start_seconds: float | None = None

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """What the services need to use this stack, as environment variables."""
        if not self._env:
            raise DevstackError("the stack is not started")
        return dict(self._env)

    @property
    def env_file(self) -> Path:
        return self.state_dir / ENV_FILE

    @property
    def endpoints(self) -> dict[str, str]:
        """Each component's title and where it listens, for people."""
        return {spec.title: spec.url for spec in self._specs.values()}

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self._running.items()}

    def exited(self) -> dict[str, int]:
        """Components that died on their own, with their exit codes."""
        codes = {name: p.exit_code() for name, p in self._running.items()}
        return {name: code for name, code in codes.items() if code is not None}

    def start(self) -> EmbeddedStack:
        began = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            specs = self._plan()
            self._prepare_state()
            (self.state_dir / "logs").mkdir(exist_ok=True)
            self._spawner = Spawner()
            for spec in specs:
                self._launch(spec)
            # Provisioning needs only Kafka and AWS: it overlaps the JVM's slower start.
            self._env |= _resource_names()
            self._start_kafka()
            self.provision_report = self._provision()
            self._wait_ready([self._specs["graph"], self._specs["rekognition"]])
            envfile.write(self.env_file, self._env)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every component (SIGTERM, then SIGKILL); safe to call more than once."""
        atexit.unregister(self.stop)
        if not self._lock.held:
            return
        processes = list(self._running.values())
        for process in processes:  # all at once, so their shutdowns overlap
            process.terminate()
        for process in processes:
            process.reap(self._stop_timeout)
        self._running.clear()
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None
        self.env_file.unlink(missing_ok=True)
        self._env = {}
        self._lock.release()

    def stop_graph(self) -> None:
        """Stop the graph database, keeping its data directory and ports."""
        process = self._running.pop("graph", None)
        if process is not None:
            process.stop(self._stop_timeout)

    def start_graph(self) -> None:
        """Start the graph database again on the same ports and data; wait until it answers."""
        if "graph" in self._running:
            return
        if self._spawner is None:
            raise DevstackError("the stack is not started")
        spec, access = self._specs["graph"], self._graph_access
        assert access is not None  # set with the spawner
        ensure_free(spec.title, access.bolt_port)
        ensure_free(spec.title, access.http_port)
        self._launch(spec)
        self._wait_ready([spec])

    def restart_graph(self) -> None:
        self.stop_graph()
        self.start_graph()

    def reset_aws(self) -> ProvisionReport:
        """Clear every bucket, queue and table in moto, then provision them afresh."""
        from labelgraph_provision import ProvisionSettings, provision_aws

        if self.durable:
            raise DevstackError("reset_aws empties moto, which the durable stack does not run")
        reset = urllib.request.Request(f"{self.env['AWS_ENDPOINT_URL']}/moto-api/reset", b"")
        with LOOPBACK_HTTP.open(reset, timeout=10):
            pass
        return provision_aws(ProvisionSettings.from_env(self._env), aws_clients(self._env))

    @property
    def _graph_root(self) -> Path:
        return self.layout.graph if self.durable else self.state_dir / "arcadedb"

    def _prepare_state(self) -> None:
        if self.durable:
            self.layout.create()
        else:
            shutil.rmtree(self._graph_root, ignore_errors=True)

    def _start_kafka(self) -> None:
        """The durable Tansu starts once its bucket exists in ministack, so after it."""
        if not self.durable:
            self._wait_ready([self._specs["kafka"], self._specs["aws"]])
            return
        self._wait_ready([self._specs["aws"], self._specs["dynamodb"]])
        ministack.consume_snapshot(self.layout.queue_snapshot)
        ensure_bucket(aws_client(self._env, "s3"), TANSU_BUCKET)
        self._launch(self._specs["kafka"])
        self._wait_ready([self._specs["kafka"]])

    def _plan(self) -> list[ComponentSpec]:
        """Choose ports and passwords, check dependencies: fails before anything starts."""
        heap = graph.graph_heap(self._graph_heap)
        kafka_port, bolt_port, http_port, aws_port, stub_port, dynamodb_port = (
            self._resolve_ports()
        )
        access = graph.GraphAccess(bolt_port, http_port, *self._graph_passwords())
        aws_url, stub_url = f"http://{HOST}:{aws_port}", f"http://{HOST}:{stub_port}"
        aws_env = {"AWS_ENDPOINT_URL": aws_url, "AWS_DEFAULT_REGION": REGION, **DUMMY_CREDENTIALS}
        self._env = {
            "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{kafka_port}",
            "NEO4J_URI": access.bolt_uri,
            "NEO4J_USER": graph.USER,
            "NEO4J_PASSWORD": access.password,
            "NEO4J_DATABASE": graph.DATABASE,
            **aws_env,
            **self._dynamodb_endpoint(dynamodb_port),
            "AWS_ENDPOINT_URL_REKOGNITION": stub_url,
            "ARCADEDB_HTTP_URL": access.http_url,
            "REKOGNITION_STUB_URL": stub_url,
        }
        self._graph_access = access
        specs = [
            graph.arcadedb(access, self._graph_root, heap),
            rekognition.stub(stub_port, aws_env),
            *(self._durable_aws(aws_port, dynamodb_port) if self.durable else [aws.moto(aws_port)]),
        ]
        kafka_spec = self._kafka(kafka_port, aws_env)
        self._specs = {spec.name: spec for spec in (kafka_spec, *specs)}
        # The durable broker starts later, once its bucket exists (_start_kafka).
        return specs if self.durable else [kafka_spec, *specs]

    def _graph_passwords(self) -> tuple[str, str]:
        if self.durable:
            return graph_passwords(self.layout.graph_credentials)
        return token_hex(16), token_hex(16)

    def _dynamodb_endpoint(self, port: int) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_DYNAMODB": f"http://{HOST}:{port}"} if self.durable else {}

    def _durable_aws(self, aws_port: int, dynamodb_port: int) -> list[ComponentSpec]:
        layout = self.layout
        return [
            ministack.ministack(aws_port, layout.objects, layout.queue_snapshot, DUMMY_CREDENTIALS),
            dynalite.dynalite(dynamodb_port, layout.tables),
        ]

    def _kafka(self, port: int, aws_env: dict[str, str]) -> ComponentSpec:
        if not self.durable:
            return kafka.tansu(port, self.state_dir)
        # Tansu's S3 client (Rust object_store) has its own names for the endpoint.
        s3_env = {**aws_env, "AWS_ENDPOINT": aws_env["AWS_ENDPOINT_URL"], "AWS_ALLOW_HTTP": "true"}
        return kafka.tansu(port, self.state_dir, f"s3://{TANSU_BUCKET}/", s3_env)

    def _resolve_ports(self) -> list[int]:
        wanted = [
            ("Kafka (Tansu)", self._ports.kafka),
            ("ArcadeDB Bolt", self._ports.bolt),
            ("ArcadeDB HTTP", self._ports.arcadedb_http),
            ("moto", self._ports.moto),
            ("Rekognition stub", self._ports.rekognition),
            ("DynamoDB (dynalite)", self._ports.dynamodb),
        ]
        for component, port in wanted:
            if port is not None:
                ensure_free(component, port)
        picked = iter(free_ports(sum(port is None for _, port in wanted)))
        return [port if port is not None else next(picked) for _, port in wanted]

    def _launch(self, spec: ComponentSpec) -> None:
        assert self._spawner is not None
        log = self._log(spec)
        with log.open("a") as out:
            out.write(f"\n=== devstack: starting {spec.title}: {' '.join(spec.argv)}\n")
        popen = self._spawner.popen(
            spec.argv, env={**os.environ, **spec.env}, cwd=self.state_dir, log=log
        )
        self._running[spec.name] = ManagedProcess(popen)

    def _wait_ready(self, specs: list[ComponentSpec]) -> None:
        """Poll all `specs` in turn, so parallel starts cost the slowest, not the sum."""
        deadline = time.monotonic() + self._start_timeout
        pending = list(specs)
        while pending:
            for spec in list(pending):
                code = self._running[spec.name].exit_code()
                if code is not None:
                    raise self._start_error(spec, f"exited with code {code}")
                if spec.ready():
                    pending.remove(spec)
            if pending and time.monotonic() > deadline:
                raise self._start_error(pending[0], f"not ready after {self._start_timeout:.0f} s")
            if pending:
                time.sleep(0.05)

    def _start_error(self, spec: ComponentSpec, reason: str) -> ComponentStartError:
        log = self._log(spec)
        return ComponentStartError(spec.title, spec.port, reason, log, log_tail(log))

    def _log(self, spec: ComponentSpec) -> Path:
        return self.state_dir / "logs" / f"{spec.name}.log"

    def _provision(self) -> ProvisionReport:
        from labelgraph_provision import ProvisionSettings, provision

        return provision(ProvisionSettings.from_env(self._env), aws_clients(self._env))


def _resource_names() -> dict[str, str]:
    # Imported here: boto3 and aiokafka cost most of a second, and the pytest plugin
    # imports this module in runs that never start a stack.
    from labelgraph_provision import ProvisionSettings

    names = ProvisionSettings()
    return {
        "IMAGE_BUCKET": names.image_bucket,
        "IMAGE_QUEUE_NAME": names.image_queue_name,
        "LABEL_TABLE": names.label_table,
        "VERDICT_TABLE": names.verdict_table,
        "LABEL_TOPIC": names.label_topic,
        "LABEL_DLQ_TOPIC": names.label_dlq_topic,
    }
