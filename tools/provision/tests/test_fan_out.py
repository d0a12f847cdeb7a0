"""Fan-out of uploads through SNS (IMAGE_TOPIC_NAME), against moto: every queue gets every
upload, as S3's own event, each with its dead-letter queue; runs again change nothing."""

import json
import time
from dataclasses import replace
from urllib.parse import unquote_plus

import boto3
import pytest

from labelgraph_provision import ProvisionSettings, provision_aws

pytestmark = pytest.mark.stack


@pytest.fixture
def settings(settings: ProvisionSettings) -> ProvisionSettings:
    """conftest's private settings, with uploads fanned out to two queues through a topic."""
    queue = settings.image_queue_name
    return replace(settings, image_topic_name=queue,
                   image_queue_names=(queue, f"{queue}-local"))


def bodies(queue: str, until: int) -> list[dict]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found: list[dict] = []
    deadline = time.monotonic() + 15
    while len(found) < until and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1).get("Messages", [])
        found += [json.loads(message["Body"]) for message in batch]
    return found


def uploaded_keys(queue: str, until: int) -> list[str]:
    return [unquote_plus(record["s3"]["object"]["key"])
            for body in bodies(queue, until) for record in body.get("Records", [])]


def test_one_upload_reaches_every_queue_as_s3s_own_event(settings: ProvisionSettings) -> None:
    report = provision_aws(settings)
    key = "cam-1/2026-11-25/12/front door.jpg"

    boto3.client("s3").put_object(Bucket=settings.image_bucket, Key=key, Body=b"jpeg")

    for queue in settings.image_queue_names:
        # Raw delivery: the body is S3's event (TestEvent first), not an SNS envelope.
        assert uploaded_keys(queue, until=2) == [key], queue
    kinds = [(o.kind, o.name) for o in report.outcomes]
    assert ("topic (SNS)", settings.image_topic_name) in kinds
    assert [name for kind, name in kinds if kind == "queue"] == [
        settings.image_dlq_name, settings.image_queue_name,
        f"{settings.image_queue_name}-local-dlq", f"{settings.image_queue_name}-local"]
    assert sum(kind == "subscription" for kind, _ in kinds) == 2


def test_each_fan_out_queue_redrives_to_its_own_dead_letter_queue(
        settings: ProvisionSettings) -> None:
    provision_aws(settings)
    sqs = boto3.client("sqs")
    for queue, dlq in settings.upload_queues:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        redrive = json.loads(sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(f":{dlq}")


def test_a_second_run_changes_nothing(settings: ProvisionSettings) -> None:
    provision_aws(settings)

    again = provision_aws(settings)

    assert not again.changed, [str(o) for o in again.outcomes if o.status.value != "existed"]


def test_switching_a_bucket_to_fan_out_announces_each_upload_once(
        settings: ProvisionSettings) -> None:
    provision_aws(replace(settings, image_topic_name="", image_queue_names=()))
    switched = provision_aws(settings)
    key = "cam-1/2026-11-25/12/once.jpg"

    boto3.client("s3").put_object(Bucket=settings.image_bucket, Key=key, Body=b"jpeg")

    assert [o.status.value for o in switched.outcomes if o.kind == "bucket notification"] == [
        "updated"]
    # Read until a third body or the deadline: a second copy would come within it.
    assert uploaded_keys(settings.image_queue_name, until=3) == [key]
    rules = boto3.client("s3").get_bucket_notification_configuration(
        Bucket=settings.image_bucket)
    assert not rules.get("QueueConfigurations") and len(rules["TopicConfigurations"]) == 1
