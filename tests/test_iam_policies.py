"""Every AWS call each service makes is granted by its committed IAM policy, and nothing
more (issue 13).

Each service's real adapters run a scenario against moto while botocore's
`provide-client-params` hook records every operation with its parameters; each operation
becomes the IAM action and resource AWS authorises it against, and deploy/iam/<service>.json
must allow every one, with no action or statement left unused. The graph is not AWS: the
graph-writer has no AWS policy and must make no AWS call. On Amazon MSK with IAM the Kafka
requests are authorised too: deploy/iam/msk-*.json are held exact the same way, from every
request aiokafka sends to the embedded broker.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import string
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import botocore.session
import httpx
import pytest
from aiokafka.conn import AIOKafkaConnection
from moto.server import ThreadedMotoServer

from labelgraph_api.adapters.s3 import image_links
from labelgraph_api.adapters.verdict_table import VerdictTable
from labelgraph_api.domain import StoredVerdict
from labelgraph_contract import encode_event
from labelgraph_devstack.kafka import tansu
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import free_ports
from labelgraph_devstack.testing import create_topics, draw_scene, labelled_event, produce
from labelgraph_graph_writer.adapters.kafka import DeadLetterPublisher, LabelConsumer
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.readiness import Readiness
from labelgraph_kafka import KafkaSettings
from labelgraph_labeler.adapters.sqs import Upload
from labelgraph_labeler.bootstrap import (
    build_labeler,
    build_queue,
    build_reconcile_mark,
    build_reconcile_progress,
    build_worker_policy,
)
from labelgraph_labeler.config import LabelerSettings
from labelgraph_labeler.handlers import backfill, label_image, relabel
from labelgraph_labeler.reconcile import ReconcileScope, reconcile, reconcile_at_start
from labelgraph_labeler.worker import WorkerHealth, run_worker
from labelgraph_provision import AwsClients, ProvisionSettings, provision_aws
from labelgraph_provision.kafka import ensure_topics

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "deploy" / "iam"
REGION, ACCOUNT = "us-east-1", "123456789012"  # moto's account
DEFAULTS = ProvisionSettings()  # the policies name the default resources

# S3 operations whose IAM action is not s3:<operation>, and whether they act on the bucket.
S3_ACTIONS = {"ListObjectsV2": ("ListBucket", True), "HeadObject": ("GetObject", False),
              "HeadBucket": ("ListBucket", True), "CreateBucket": ("CreateBucket", True),
              "GetBucketNotificationConfiguration": ("GetBucketNotification", True),
              "PutBucketNotificationConfiguration": ("PutBucketNotification", True)}
# Batch operations are authorised as their single counterpart.
SQS_ACTIONS = {"DeleteMessageBatch": "DeleteMessage", "SendMessageBatch": "SendMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
# Actions without resource-level permissions: AWS evaluates them against "*".
UNSCOPED = {"rekognition:DetectLabels", "sns:ListTopics", "sns:GetSubscriptionAttributes",
            "sns:SetSubscriptionAttributes"}


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def table_arn(name: str, index: str | None = None) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}" + (
        f"/index/{index}" if index else "")


def grants_needed(service: str, operation: str, params: dict[str, Any]
                  ) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS checks for one call."""
    if service == "s3":
        name, on_bucket = S3_ACTIONS.get(operation, (operation, False))
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        return [(f"s3:{name}", bucket if on_bucket else f"{bucket}/{params['Key']}")]
    if service == "sqs":
        name = params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[-1]
        return [(f"sqs:{SQS_ACTIONS.get(operation, operation)}", queue_arn(name))]
    if service == "dynamodb":
        tables = params.get("RequestItems") or {params["TableName"]: None}
        return [(f"dynamodb:{operation}", table_arn(table, params.get("IndexName")))
                for table in tables]
    if service == "rekognition":
        needed = [(f"rekognition:{operation}", "*")]
        s3_object = params.get("Image", {}).get("S3Object")
        if s3_object:  # Rekognition reads the image with the caller's identity
            needed.append(("s3:GetObject",
                           f"arn:aws:s3:::{s3_object['Bucket']}/{s3_object['Name']}"))
        return needed
    if service == "sns":
        action = f"sns:{operation}"
        if action in UNSCOPED:
            return [(action, "*")]
        arn = params.get("TopicArn") or f"arn:aws:sns:{REGION}:{ACCOUNT}:{params['Name']}"
        return [(action, arn)]
    raise AssertionError(f"no IAM mapping for {service}:{operation}: add one here")


@dataclass
class Recorder:
    """The grants the recorded calls need, and the calls themselves for messages."""

    needed: set[tuple[str, str]] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.operations.add(f"{service}:{model.name}")
        self.needed.update(grants_needed(service, model.name, params))


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Hooks every botocore client created inside the block (and only those: the test's
    own set-up clients stay unrecorded)."""
    recorder = Recorder()
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("provide-client-params.*.*", recorder.record)
        return client

    with monkeypatch.context() as patch:
        patch.setattr(botocore.session.Session, "create_client", create_client)
        yield recorder


# The api's policy takes the images' key prefix as a parameter, rendered as
# `envsubst '$IMAGE_PREFIX'` renders it (docs/deploy.md); the others take none.
DEFAULT_PARAMETERS = {"IMAGE_PREFIX": "alarms/"}


def rendered(service: str, parameters: dict[str, str]) -> str:
    text = string.Template((POLICIES / f"{service}.json").read_text()).safe_substitute(
        parameters)
    assert "${" not in text, f"deploy/iam/{service}.json: a parameter left unset"
    return text


def statements(service: str, parameters: dict[str, str] = DEFAULT_PARAMETERS
               ) -> list[dict[str, Any]]:
    policy = json.loads(rendered(service, parameters))
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement.get("Sid")
        for key in ("Action", "Resource"):
            if isinstance(statement[key], str):
                statement[key] = [statement[key]]
    return list(policy["Statement"])


def matches(patterns: list[str], value: str) -> bool:
    # IAM's `*` matches any run of characters, `/` and `:` included, as fnmatch's does.
    return any(fnmatch.fnmatchcase(value, pattern.replace("[", "[[]")) for pattern in patterns)


def aws_resource(arn: str) -> str:
    """The ARN as on AWS: the policies name any region and account."""
    return arn.replace(f":{REGION}:{ACCOUNT}:", ":*:*:")


def assert_policy_is_exact(service: str, recorder: Recorder,
                           parameters: dict[str, str] = DEFAULT_PARAMETERS) -> None:
    """Every needed grant is allowed; every action of every statement is needed on one of
    its resources; unscoped actions only on "*", scoped ones never on "*"."""
    policy = statements(service, parameters)
    missing = sorted((action, arn) for action, arn in recorder.needed
                     if not any(matches(s["Action"], action)
                                and matches(s["Resource"], aws_resource(arn))
                                for s in policy))
    assert not missing, f"deploy/iam/{service}.json does not allow {missing}"
    for statement in policy:
        for action in statement["Action"]:
            assert "*" not in action, f"{statement['Sid']}: wildcard action {action}"
            assert (statement["Resource"] == ["*"]) == (action in UNSCOPED), (
                f"{statement['Sid']}: {action} on {statement['Resource']}")
            used = [arn for needed, arn in recorder.needed if needed == action
                    and matches(statement["Resource"], aws_resource(arn))]
            assert used, f"{service}: {statement['Sid']} grants {action}, never needed"


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server of this test's own, and the environment boto3 reads pointed at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # An in-process moto keeps its state in module globals that every ThreadedMotoServer of
    # the process shares: another test's bucket would hide this one's CreateBucket.
    httpx.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    for name, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_REKOGNITION", raising=False)
    yield url
    server.stop()


def provisioned(settings: ProvisionSettings = DEFAULTS) -> None:
    provision_aws(settings, AwsClients.create(REGION))


def test_provision_policy_covers_direct_notifications_and_the_fan_out(moto, monkeypatch):
    fan_out = ProvisionSettings(
        image_topic_name=DEFAULTS.image_queue_name,
        image_queue_names=(DEFAULTS.image_queue_name, f"{DEFAULTS.image_queue_name}-local"),
        detectors=("aws-rekognition", "ssd-mobilenet-v2-coco"))
    by_hand = boto3.client("sns")  # made outside the recording: not recorded
    with recording(monkeypatch) as recorder:
        provisioned()            # creates everything
        provisioned()            # finds everything
        provisioned(fan_out)     # switches to the fan-out
        _turn_raw_delivery_off(fan_out, by_hand)
        provisioned(fan_out)     # mends the subscriptions
    assert {"sns:Subscribe", "dynamodb:CreateTable", "s3:CreateBucket"} <= {
        action for action, _ in recorder.needed}
    assert_policy_is_exact("provision", recorder)


def _turn_raw_delivery_off(settings: ProvisionSettings, sns: Any) -> None:
    """As someone might by hand: SNS's envelope, which the labeler cannot read."""
    (topic,) = [t["TopicArn"] for t in sns.list_topics()["Topics"]
                if t["TopicArn"].endswith(f":{settings.image_topic_name}")]
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        sns.set_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"],
                                        AttributeName="RawMessageDelivery",
                                        AttributeValue="false")


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (port,) = free_ports(1)
    spec = tansu(port, tmp_path)
    process = subprocess.Popen(spec.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(spec.ready)
        bootstrap = f"127.0.0.1:{port}"
        asyncio.run(create_topics(bootstrap, [DEFAULTS.label_topic], partitions=1))
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
        yield bootstrap
    finally:
        process.terminate()
        process.wait(10)


def image_key(stamp: str = "20161105-071530", prefix: str = "alarms/") -> str:
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
    return f"{prefix}frontdoor/{day}/{stamp[9:11]}/{uuid.uuid4().hex[:8]}_{stamp}.jpg"


def depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in attributes.values())


async def labeler_scenario(settings: LabelerSettings, s3: Any, sqs: Any) -> None:
    """The labeler's commands: `run` (uploads labelled, a bad message dead-lettered, one
    message handed back), a redelivery, `relabel`, `backfill`, `backfill --full` and
    `reconcile --all`."""
    labeler = build_labeler(settings)
    queue = await asyncio.to_thread(build_queue, settings)
    await labeler.publisher.start()
    try:
        good, other = image_key(), image_key()
        s3.put_object(Bucket=settings.image_bucket, Key=good, Body=draw_scene(True, seed="iam"))
        s3.put_object(Bucket=settings.image_bucket, Key=other, Body=draw_scene(False, seed="iam"))
        url = sqs.get_queue_url(QueueName=settings.image_queue_name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="no S3 notification")
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(labeler, queue, stop, WorkerHealth(),
                                                build_worker_policy(settings)))
        dlq = sqs.get_queue_url(QueueName=DEFAULTS.image_dlq_name)["QueueUrl"]
        await asyncio.to_thread(wait_for, lambda: depth(sqs, dlq) >= 1 and depth(sqs, url) == 0,
                                60)
        stop.set()
        await worker
        # Handing a message back happens when a stop or a broker outage meets a poll.
        s3.put_object(Bucket=settings.image_bucket, Key=image_key(), Body=b"x")
        for notification in await asyncio.to_thread(wait_for, lambda: queue.receive(10), 30):
            await asyncio.to_thread(queue.release, notification.receipt)
        await label_image(labeler, Upload(settings.image_bucket, good), first_delivery=False)
        await relabel(labeler, settings.image_bucket, "alarms/", 2, lambda *_: None)
        await backfill(labeler, full=False, batch_size=100)
        await backfill(labeler, full=True, batch_size=100)
        # An image whose notification nobody handled: reconcile --all finds and labels it.
        s3.put_object(Bucket=settings.image_bucket, Key=image_key(),
                      Body=draw_scene(True, seed="iam-lost"))
        await reconcile(labeler, ReconcileScope(settings.image_bucket), concurrency=2,
                        saved=build_reconcile_progress(settings, settings.image_bucket))
        # The start's reconcile reads and writes its mark.
        await reconcile_at_start(labeler, settings.image_bucket, build_reconcile_mark(settings),
                                 days=2, max_days=31, concurrency=2, stop=asyncio.Event())
    finally:
        await labeler.publisher.stop()


def test_labeler_policy_covers_run_dead_letters_relabel_and_backfill(moto, broker,
                                                                     monkeypatch):
    provisioned(ProvisionSettings(detectors=("aws-rekognition", "opencv-hog")))
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    monkeypatch.setenv("LABELER_POLL_WAIT_SECONDS", "1")
    # A local model beside Rekognition: its own table, checkpoint and reads of the bytes.
    monkeypatch.setenv("LABELER_DETECTORS", "aws-rekognition,opencv-hog")
    with recording(monkeypatch) as recorder:
        asyncio.run(labeler_scenario(LabelerSettings(), s3, sqs))
    needed = {action for action, _ in recorder.needed}
    assert {"rekognition:DetectLabels", "sqs:SendMessage", "s3:ListBucket",
            "dynamodb:Query", "s3:PutObject"} <= needed, sorted(recorder.operations)
    assert (f"arn:aws:s3:::{DEFAULTS.image_bucket}/status/label_to_graph_checkpoint.opencv-hog"
            in {arn for _, arn in recorder.needed})
    assert (f"arn:aws:s3:::{DEFAULTS.image_bucket}/status/reconcile_progress"
            in {arn for _, arn in recorder.needed})
    assert (f"arn:aws:s3:::{DEFAULTS.image_bucket}/status/reconcile_at_start"
            in {arn for _, arn in recorder.needed})
    assert_policy_is_exact("labeler", recorder)


@pytest.mark.parametrize("prefix", ["alarms/", "site-2/uploads/"])
def test_api_policy_covers_image_links_under_its_prefix_and_the_verdict_table(
        moto, monkeypatch, prefix):
    provisioned()
    with recording(monkeypatch) as recorder:
        session = boto3.session.Session()
        links = image_links(session, REGION, None, DEFAULTS.image_bucket, 60)
        table = VerdictTable(session.client("dynamodb"), DEFAULTS.verdict_table)
        key = image_key(prefix=prefix)
        asyncio.run(_use_verdicts(table, key))
        signed = urlsplit(links.url(None, key))
    # A presigned URL is authorised, when used, as the api's identity reading the object.
    bucket, _, key = unquote(signed.path).lstrip("/").partition("/")
    recorder.needed.add(("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"))
    assert_policy_is_exact("api", recorder, {"IMAGE_PREFIX": prefix})
    if prefix != DEFAULT_PARAMETERS["IMAGE_PREFIX"]:
        # The prefix is the policy's parameter, not a fixed `alarms/*`.
        with pytest.raises(AssertionError, match="does not allow"):
            assert_policy_is_exact("api", recorder)


async def _use_verdicts(table: VerdictTable, key: str) -> None:
    """A verdict recorded, an older one kept in the history only, all listed, a history read
    and the verdict in force undone: PUT /verdicts, the graph's restore, an image's page and
    POST /verdicts/undo."""
    newer = StoredVerdict(object_key=key, label="Person", present=True, reviewer="ann",
                          reviewed_at="2024-05-01T12:00:00Z")
    older = StoredVerdict(object_key=key, label="Person", present=False, reviewer="bob",
                          reviewed_at="2024-05-01T11:00:00Z")
    await table.record(newer)
    assert await table.record(older) == newer
    assert await table.put_if_newer([older]) == 0
    assert [history.current async for page in table.pages(10) for history in page] == [newer]
    [history] = await table.history(key)  # an image's page: every verdict given on it
    assert [entry.reviewer for entry in history.entries] == ["bob", "ann"]
    undone = await table.undo(key, "Person", newer.reviewed_at, "ann", "2024-05-01T12:01:00Z")
    assert undone is not None and undone.current == older


def test_the_graph_writer_makes_no_aws_call_so_has_no_policy():
    sources = (REPO / "services" / "graph-writer" / "src").rglob("*.py")
    assert not [path for path in sources if "boto" in path.read_text()]
    assert not (POLICIES / "graph-writer.json").exists()


# --- Amazon MSK with IAM: the Kafka requests each service sends, as MSK authorises them ---
# AWS's table of MSK IAM actions: the action each Kafka request needs (requests without
# one need only kafka-cluster:Connect, which every connection needs).
KAFKA_ACTIONS = {
    "MetadataRequest": "DescribeTopic", "ListOffsetsRequest": "DescribeTopic",
    "OffsetRequest": "DescribeTopic", "ProduceRequest": "WriteData", "FetchRequest": "ReadData",
    "FindCoordinatorRequest": "DescribeGroup", "GroupCoordinatorRequest": "DescribeGroup",
    "OffsetFetchRequest": "DescribeGroup", "JoinGroupRequest": "AlterGroup",
    "SyncGroupRequest": "AlterGroup", "HeartbeatRequest": "AlterGroup",
    "LeaveGroupRequest": "AlterGroup", "OffsetCommitRequest": "AlterGroup",
    "CreateTopicsRequest": "CreateTopic",
    "DescribeConfigsRequest": "DescribeTopicDynamicConfiguration",
}
# And the actions AWS's table says each one requires besides.
REQUIRED_WITH = {"WriteData": ("DescribeTopic",), "ReadData": ("DescribeTopic",),
                 "CreateTopic": ("DescribeTopic",), "AlterGroup": ("DescribeGroup",)}
CONNECTION_ONLY = {"ApiVersionRequest", "ApiVersionsRequest", "SaslHandshakeRequest",
                   "SaslAuthenticateRequest"}
GROUP_FIELDS = ("group", "group_id", "consumer_group", "coordinator_key")


def kafka_grants(request: Any) -> list[tuple[str, str]]:
    """The (MSK action, resource ARN) pairs one Kafka request needs."""
    kind = type(request).__name__.split("_v")[0]
    if kind in CONNECTION_ONLY:
        return [("kafka-cluster:Connect", "arn:aws:kafka:*:*:cluster/c/1")]
    action = KAFKA_ACTIONS.get(kind)
    assert action, f"no MSK action mapped for {kind}: add it from AWS's table"
    fields = {name: getattr(request, name) for name in request.SCHEMA.names}
    actions = (action, *REQUIRED_WITH.get(action, ()))
    if action.endswith("Group"):
        (group,) = [fields[name] for name in GROUP_FIELDS if name in fields]
        return [(f"kafka-cluster:{each}", f"arn:aws:kafka:*:*:group/c/1/{group}")
                for each in actions]
    topics = [entry if isinstance(entry, str) else entry[1 if kind.startswith("DescribeConfigs")
                                                           else 0]
              for name in ("topics", "create_topic_requests", "resources")
              for entry in (fields.get(name) or [])]
    # Metadata for every topic names none: MSK answers with those the role may describe.
    return [(f"kafka-cluster:{each}", f"arn:aws:kafka:*:*:topic/c/1/{topic}")
            for topic in topics for each in actions]


@contextmanager
def recording_kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Every request any aiokafka connection sends inside the block, as MSK grants."""
    recorder = Recorder()
    original = AIOKafkaConnection.send

    def send(self: Any, request: Any, expect_response: bool = True) -> Any:
        prepared = request.prepare(self._versions)
        recorder.operations.add(type(prepared).__name__)
        recorder.needed.update(kafka_grants(prepared))
        return original(self, request, expect_response)

    with monkeypatch.context() as patch:
        patch.setattr(AIOKafkaConnection, "send", send)
        yield recorder


def test_msk_provision_policy_covers_creating_and_checking_both_topics(broker, monkeypatch):
    settings = ProvisionSettings.from_env({"KAFKA_BOOTSTRAP_SERVERS": broker})
    with recording_kafka(monkeypatch) as recorder:
        asyncio.run(ensure_topics(settings))  # creates the dead-letter topic, checks both
        asyncio.run(ensure_topics(settings))  # finds both
    assert "kafka-cluster:CreateTopic" in {action for action, _ in recorder.needed}
    assert_policy_is_exact("msk-provision", recorder)


def test_msk_producer_policy_covers_the_labelers_publishing(moto, broker, monkeypatch):
    provisioned()
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    monkeypatch.setenv("LABELER_POLL_WAIT_SECONDS", "1")
    with recording_kafka(monkeypatch) as recorder:
        asyncio.run(labeler_scenario(LabelerSettings(), s3, sqs))
    assert "kafka-cluster:WriteData" in {action for action, _ in recorder.needed}
    assert_policy_is_exact("msk-producer", recorder)


async def graph_writer_kafka_scenario(bootstrap: str) -> None:
    """The graph-writer's Kafka side: join the group, read a batch, commit it, check the
    topic, dead-letter a record."""
    settings = GraphWriterSettings(neo4j_password="unused")  # type: ignore[call-arg]
    connection = KafkaSettings(kafka_bootstrap_servers=bootstrap)  # type: ignore[call-arg]
    consumer = LabelConsumer(connection, settings.label_topic, settings.consumer_group,
                             Readiness(), session_timeout_ms=2000, heartbeat_interval_ms=500)
    dead_letters = DeadLetterPublisher(connection, settings.label_dlq_topic)
    await consumer.start()
    await dead_letters.start()
    try:
        batch: list[Any] = []
        async with asyncio.timeout(60):
            while not batch:
                epoch = consumer.epoch
                batch = await consumer.next_batch(10)
        assert await consumer.commit(batch, epoch)
        assert await consumer.check() is None
        await dead_letters.publish(batch[0], "a reason")
    finally:
        await dead_letters.stop()
        await consumer.stop()


def test_msk_consumer_policy_covers_the_graph_writers_group(broker, monkeypatch):
    asyncio.run(create_topics(broker, [DEFAULTS.label_dlq_topic], partitions=1))
    asyncio.run(produce(broker, DEFAULTS.label_topic,
                        [encode_event(labelled_event(image_key(), {"Person": 98.0}))]))
    with recording_kafka(monkeypatch) as recorder:
        asyncio.run(graph_writer_kafka_scenario(broker))
    assert {"kafka-cluster:ReadData", "kafka-cluster:AlterGroup"} <= {
        action for action, _ in recorder.needed}
    assert_policy_is_exact("msk-consumer", recorder)
