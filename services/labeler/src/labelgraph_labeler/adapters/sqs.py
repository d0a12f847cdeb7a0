"""SQS: the bucket's ObjectCreated notifications, and the dead-letter queue behind them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

# How SQS says a queue is gone, in its JSON and its query protocol.
_NO_QUEUE = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"}


class QueueMissing(Exception):
    """The upload queue does not exist (LocalStack lost it on a restart, or it was never
    provisioned); the same words on every try, so readiness logs it once."""

    def __init__(self, queue_name: str) -> None:
        super().__init__(
            f"the upload queue {queue_name!r} does not exist (LocalStack keeps no state "
            "across restarts): run `make up` or provision again; the labeler resumes by "
            "itself once it exists")


@contextmanager
def _naming_missing(queue_name: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _NO_QUEUE:
            raise QueueMissing(queue_name) from error
        raise


@dataclass(frozen=True)
class Upload:
    """One uploaded object named by a notification."""

    bucket: str
    key: str


@dataclass(frozen=True)
class Notification:
    """One SQS message: zero or more uploads (none for s3:TestEvent); a body that is no S3
    notification has none either, and says so in `problem`."""

    receipt: str
    body: str
    uploads: list[Upload]
    receives: int = 1
    problem: str | None = None


class SqsUploadQueue:
    """Long-polls the upload queue, acknowledges handled messages, dead-letters refused ones."""

    def __init__(self, client: Any, queue_name: str, wait_seconds: int) -> None:
        self._client = client
        self._name = queue_name
        with _naming_missing(queue_name):
            self._url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._wait_seconds = wait_seconds
        self._dlq_url, self._max_receives = self._redrive_policy()

    def receive(self, max_messages: int) -> list[Notification]:
        # Same name, same URL: once provisioning recreates the queue, this works again.
        with _naming_missing(self._name):
            response = self._client.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=max(1, min(max_messages, 10)),
                WaitTimeSeconds=self._wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        return [notification(message) for message in response.get("Messages", [])]

    def is_last_receive(self, notification: Notification) -> bool:
        """Whether SQS would move this message to the dead-letter queue on its next receive."""
        return self._max_receives is not None and notification.receives >= self._max_receives

    def acknowledge(self, receipt: str) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=receipt)

    def acknowledge_all(self, receipts: list[str]) -> list[str]:
        """Delete up to ten handled messages in one call; returns the receipts not deleted."""
        answer = self._client.delete_message_batch(QueueUrl=self._url, Entries=[
            {"Id": str(index), "ReceiptHandle": receipt} for index, receipt in enumerate(receipts)])
        return [receipts[int(failure["Id"])] for failure in answer.get("Failed", [])]

    def release(self, receipt: str) -> None:
        """Make a received message visible again at once, for another worker."""
        self._client.change_message_visibility(QueueUrl=self._url, ReceiptHandle=receipt,
                                               VisibilityTimeout=0)

    def dead_letter(self, notification: Notification, reason: str, detail: str) -> None:
        """Move a message that will never succeed to the dead-letter queue, with why."""
        if self._dlq_url is not None:
            attributes = {name: {"DataType": "String", "StringValue": value[:1024] or "-"}
                          for name, value in (("failure-reason", reason),
                                              ("failure-detail", detail))}
            self._client.send_message(QueueUrl=self._dlq_url, MessageBody=notification.body,
                                      MessageAttributes=attributes)
        self.acknowledge(notification.receipt)

    def backlog(self) -> int:
        """Messages waiting (approximate, as SQS counts them)."""
        with _naming_missing(self._name):
            attributes = self._client.get_queue_attributes(
                QueueUrl=self._url,
                AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def _redrive_policy(self) -> tuple[str | None, int | None]:
        # The provisioned redrive policy names the DLQ and the receives allowed: one truth,
        # no second setting.
        attributes = self._client.get_queue_attributes(
            QueueUrl=self._url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        if "RedrivePolicy" not in attributes:
            return None, None
        policy = json.loads(attributes["RedrivePolicy"])
        arn = policy["deadLetterTargetArn"]
        url: str = self._client.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        return url, int(policy["maxReceiveCount"])


def notification(message: dict[str, Any]) -> Notification:
    """One received message; a body that is no S3 notification is marked, never raised."""
    receipt, body = message["ReceiptHandle"], message["Body"]
    receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
    try:
        return Notification(receipt, body, uploads(body), receives)
    except (ValueError, LookupError, TypeError, AttributeError) as error:
        return Notification(receipt, body, [], receives,
                            problem=f"not an S3 notification: {error!r}"[:500])


def uploads(body: str) -> list[Upload]:
    """Uploads in an S3 notification body; S3 URL-encodes keys, so decode as AWS does."""
    document = json.loads(body)
    return [
        Upload(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in document.get("Records", [])
        if record.get("eventName", "").startswith("ObjectCreated")
    ]
