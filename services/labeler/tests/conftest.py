"""A private lane through the shared stack per test: its own bucket, queues, table and topic.

The stack is shared by the whole session, so each test provisions fresh, uniquely named
resources with the project's own provisioning and points the labeler at them.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from prometheus_client import REGISTRY

from labelgraph_contract import ImageLabeled, decode_event, label_table_name
from labelgraph_devstack.kafka import tansu
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.testing import (
    ServiceThread,
    aws_client,
    create_topics,
    draw_scene,
    read_until,
)
from labelgraph_labeler.bootstrap import DETECTOR_FACTORIES, DetectorFactory, serve
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.handlers import Labeler
from labelgraph_provision import AwsClients, ProvisionSettings, provision_aws

JPEG = draw_scene(False, seed="labeler-tests")




def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def label(name: str, confidence: float, parents: tuple[str, ...] = (),
          box: dict[str, float] | None = None) -> dict[str, Any]:
    """A label in DetectLabels' response shape, for the stub's rules."""
    item: dict[str, Any] = {"Name": name, "Confidence": confidence,
                            "Parents": [{"Name": p} for p in parents]}
    if box:
        item["Instances"] = [{"BoundingBox": box, "Confidence": confidence}]
    return item


@dataclass
class Lane:
    """One test's resources and the ways a test looks at them (helpers included, because
    test modules cannot import conftest under --import-mode=importlib)."""

    jpeg = JPEG
    wait_for = staticmethod(wait_for)
    metric = staticmethod(metric)
    label = staticmethod(label)

    @staticmethod
    def failures(reason: str, detector: str = "aws-rekognition") -> float:
        """labeler_images_failed_total of one reason (detector "" for a refused message)."""
        return metric("labeler_images_failed_total", detector=detector, reason=reason)

    def broker_starter(self, port: int, state_dir: Path) -> Callable[..., subprocess.Popen[bytes]]:
        """Starts (again) a private Tansu broker on `port`; each start waits until it answers
        and, unless `provisioned=False`, creates the lane's topic on it as provisioning would
        (no client creates it: the broker holds nothing across a restart)."""
        broker = tansu(port, state_dir)

        def start(provisioned: bool = True) -> subprocess.Popen[bytes]:
            process = subprocess.Popen(broker.argv, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            wait_for(broker.ready)
            if provisioned:
                self.create_topic(port)
            return process
        return start

    def create_topic(self, port: int) -> None:
        asyncio.run(create_topics(f"127.0.0.1:{port}", [self.topic]))

    env: dict[str, str]
    bucket: str
    queue: str
    table: str
    topic: str
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(self.env, service)
        return self._clients[service]

    def key(self, camera: str = "frontdoor", stamp: str = "20161105-071530",
            name: str | None = None) -> str:
        """A fresh key in the cameras' layout."""
        day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
        return f"alarms/{camera}/{day}/{stamp[9:11]}/{name or uuid.uuid4().hex[:8]}_{stamp}.jpg"

    def teach(self, *rules: dict[str, Any]) -> None:
        """Put rules in front of the stub's (keys are unique, so other tests are unaffected)."""
        scoped = [{**rule, "match": {"bucket": self.bucket, **rule.get("match", {})}}
                  for rule in rules]
        httpx.post(f"{self.env['REKOGNITION_STUB_URL']}/_stub/rules/prepend",
                   json={"rules": scoped}, timeout=10).raise_for_status()

    def stub_calls(self, key: str) -> int:
        calls = httpx.get(f"{self.env['REKOGNITION_STUB_URL']}/_stub/calls", timeout=10).json()
        return int(calls["by_key"].get(f"{self.bucket}/{key}", 0))

    def put(self, key: str, body: bytes = JPEG, **metadata: str) -> None:
        self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body,
                                     ContentType="image/jpeg", Metadata=metadata)

    def rows(self, key: str, detector: str = "aws-rekognition") -> list[dict[str, Any]]:
        """The image's rows in the detector's own table."""
        table = self.client_resource().Table(label_table_name(self.table, detector))
        return _every_page(table.query, KeyConditionExpression="object_key = :k",
                           ExpressionAttributeValues={":k": key}, ConsistentRead=True)

    def all_rows(self) -> list[dict[str, Any]]:
        return _every_page(self.client_resource().Table(self.table).scan)

    def client_resource(self) -> Any:
        if "dynamodb-resource" not in self._clients:
            self._clients["dynamodb-resource"] = boto3.session.Session(
                aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                region_name=self.env["AWS_DEFAULT_REGION"],
            ).resource("dynamodb", endpoint_url=self.env["AWS_ENDPOINT_URL"])
        return self._clients["dynamodb-resource"]

    def queue_depth(self, name: str | None = None) -> int:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name or self.queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(value) for value in attributes.values())

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=f"{self.queue}-dlq")["QueueUrl"]
        found: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           MessageAttributeNames=["All"],
                                           VisibilityTimeout=30).get("Messages", []):
            found.extend(batch)
        return found

    def events(self, until: Callable[[list[ImageLabeled]], bool], timeout: float = 30,
               topic: str | None = None, bootstrap: str | None = None) -> list[ImageLabeled]:
        """Every event on the topic from its beginning, read until `until` holds."""
        records = asyncio.run(read_until(
            bootstrap or self.env["KAFKA_BOOTSTRAP_SERVERS"], topic or self.topic,
            lambda records: until([decode_event(r.value) for r in records]), timeout))
        return [decode_event(r.value) for r in records]


def _every_page(call: Callable[..., Any], **arguments: Any) -> list[dict[str, Any]]:
    """Every item of a query or scan, past DynamoDB's 1 MB pages."""
    items: list[dict[str, Any]] = []
    while True:
        page = call(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def provision_lane(stack_env: dict[str, str], detectors: str = "aws-rekognition",
                   fan_out: bool = False) -> Lane:
    """Fresh bucket, upload queue (3 s visibility, 3 receives) with DLQ, a table per
    detector and a topic; with `fan_out`, uploads go through SNS to that queue and to a
    second one, `<queue>-local`, with its own DLQ."""
    suffix = uuid.uuid4().hex[:10]
    # The provision step's own reading of LABELER_DETECTORS, as in a deployment.
    configured = ProvisionSettings.from_env({"LABELER_DETECTORS": detectors})
    names = ProvisionSettings(
        image_bucket=f"lbl-{suffix}", image_queue_name=f"lbl-{suffix}",
        image_dlq_name=f"lbl-{suffix}-dlq", image_queue_max_receives=3,
        image_queue_visibility_timeout=3, label_table=f"lbl_{suffix}",
        detectors=configured.detectors,
        image_topic_name=f"lbl-{suffix}" if fan_out else "",
        image_queue_names=(f"lbl-{suffix}", f"lbl-{suffix}-local") if fan_out else (),
    )
    provision_aws(names, AwsClients.create(
        stack_env["AWS_DEFAULT_REGION"], endpoint_url=stack_env["AWS_ENDPOINT_URL"],
        access_key_id=stack_env["AWS_ACCESS_KEY_ID"],
        secret_access_key=stack_env["AWS_SECRET_ACCESS_KEY"]))
    sqs = aws_client(stack_env, "sqs")
    # S3's s3:TestEvent lands on a new queue: clear it so depths count uploads only.
    for queue, _ in names.upload_queues:
        sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    topic = f"labels-{suffix}"
    asyncio.run(create_topics(stack_env["KAFKA_BOOTSTRAP_SERVERS"], [topic]))
    env = {**stack_env, "IMAGE_BUCKET": names.image_bucket,
           "IMAGE_QUEUE_NAME": names.image_queue_name, "LABEL_TABLE": names.label_table,
           "LABEL_TOPIC": topic, "LABELER_DETECTORS": detectors,
           "LABELER_POLL_WAIT_SECONDS": "1",
           "LABELER_RETRY_BASE_SECONDS": "0.05", "LABELER_RETRY_MAX_SECONDS": "0.2"}
    return Lane(env, names.image_bucket, names.image_queue_name, names.label_table, topic)


@pytest.fixture
def lane_for(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Lane]:
    """Makes a fresh lane for LABELER_DETECTORS, its variables set in os.environ (boto3 and
    the settings read them)."""
    def make(detectors: str, fan_out: bool = False) -> Lane:
        fresh = provision_lane(stack.env, detectors, fan_out)
        for name, value in fresh.env.items():
            monkeypatch.setenv(name, value)
        return fresh

    return make


@pytest.fixture
def lane(lane_for: Callable[[str], Lane]) -> Lane:
    """A fresh lane with the one default detector."""
    return lane_for("aws-rekognition")


class InProcessLabeler(ServiceThread):
    """`labeler run` (bootstrap.serve, what the entrypoint runs) on a thread of this process,
    its own event loop, stopped on demand."""

    def __init__(self, settings: LabelerSettings,
                 built: Callable[[Labeler], None] = lambda _: None,
                 factories: dict[str, DetectorFactory] | None = None) -> None:
        super().__init__(self._serve_labeler, "the labeler")
        self.settings = settings
        self._factories = factories or dict(DETECTOR_FACTORIES)
        self._built = built  # sees the adapters before the first poll (to watch calls)

    async def _serve_labeler(self, stop: asyncio.Event, started: Callable[[], None]) -> None:
        def connected(labeler: Labeler) -> None:
            self._built(labeler)
            started()
        await serve(self.settings, stop, self._factories, connected)


@pytest.fixture
def new_topic(lane: Lane) -> Callable[[], str]:
    """Creates another fresh topic on the lane's broker and returns its name."""
    def create() -> str:
        topic = f"replay-{uuid.uuid4().hex[:10]}"
        asyncio.run(create_topics(lane.env["KAFKA_BOOTSTRAP_SERVERS"], [topic]))
        return topic

    return create


@pytest.fixture
def in_process() -> Callable[..., InProcessLabeler]:
    """Makes an in-process labeler on the test's lane (request `lane` or `lane_for` too: the
    settings come from the environment they set); keyword arguments override settings,
    `built` is called with the labeler's adapters before its first poll, and `factories`
    adds detector kinds (fakes) to the real ones."""
    def make(built: Callable[[Labeler], None] = lambda _: None,
             factories: dict[str, DetectorFactory] | None = None,
             **overrides: Any) -> InProcessLabeler:
        # Port 0: the ops server runs as in production, on a port the system picks.
        return InProcessLabeler(LabelerSettings(**{"LABELER_OPS_PORT": 0, **overrides}), built,
                                {**DETECTOR_FACTORIES, **(factories or {})})

    return make


@pytest.fixture
def running_labeler(lane: Lane, in_process: Callable[..., InProcessLabeler]
                    ) -> Iterator[InProcessLabeler]:
    with in_process() as running:
        yield running
