"""SQS: the bucket's ObjectCreated notifications."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class Notification:
    """One SQS message: zero or more uploads (none for s3:TestEvent)."""

    receipt: str
    keys: list[str]


class UploadQueue:
    """Long-polls the upload queue and acknowledges handled messages."""

    def __init__(self, client: Any, queue_name: str, wait_seconds: int) -> None:
        self._client = client
        self._url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._wait_seconds = wait_seconds

    def receive(self, max_messages: int) -> list[Notification]:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(max_messages, 10),
            WaitTimeSeconds=self._wait_seconds,
        )
        return [
            Notification(message["ReceiptHandle"], created_keys(message["Body"]))
            for message in response.get("Messages", [])
        ]

    def acknowledge(self, receipt: str) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=receipt)


def created_keys(body: str) -> list[str]:
    """Object keys in an S3 notification body; S3 URL-encodes them, so decode as AWS does."""
    document = json.loads(body)
    return [
        unquote_plus(record["s3"]["object"]["key"])
        for record in document.get("Records", [])
        if record.get("eventName", "").startswith("ObjectCreated")
    ]
