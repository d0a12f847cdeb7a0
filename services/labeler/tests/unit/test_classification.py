"""Which outside errors are permanent and which are worth another try: the adapters' logic,
over botocore's own Stubber (no server: these answers are hard to provoke from moto)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from labelgraph_labeler.adapters.dynamodb import (
    UNPROCESSED_ATTEMPTS,
    DynamoDBLabelTable,
    UnprocessedRows,
)
from labelgraph_labeler.adapters.rekognition import RekognitionDetector, RetryPolicy
from labelgraph_labeler.adapters.s3 import S3ImageStore
from labelgraph_labeler.adapters.sqs import Notification, notification
from labelgraph_labeler.domain import ImageRejected, ImageSource

SESSION = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                region_name="us-east-1")
ONCE = Config(retries={"total_max_attempts": 1})


def client(service: str):
    return SESSION.client(service, config=ONCE, endpoint_url="http://127.0.0.1:1")


@pytest.mark.parametrize(("code", "status", "reason"), [
    ("404", 404, "missing"), ("NoSuchKey", 404, "missing"),
    ("403", 403, "forbidden"), ("AccessDenied", 403, "forbidden")])
def test_s3_answers_that_will_not_change_are_rejections(code, status, reason):
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", code, http_status_code=status)
        with pytest.raises(ImageRejected) as refused:
            S3ImageStore(s3).describe("bucket", "key.jpg")
    assert refused.value.reason == reason


@pytest.mark.parametrize(("code", "status"), [("SlowDown", 503), ("InternalError", 500)])
def test_s3_overload_and_server_errors_stay_transient(code, status):
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", code, http_status_code=status)
        with pytest.raises(ClientError):
            S3ImageStore(s3).describe("bucket", "key.jpg")


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException",
                                  "ThrottlingException", "InternalServerError"])
def test_table_throttling_and_server_errors_stay_transient(code):
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_response("query", {"Items": []})
        stub.add_client_error("batch_write_item", code, http_status_code=400)
        with pytest.raises(ClientError):
            DynamoDBLabelTable(dynamodb, "table").replace_rows(
                "k", [{"object_key": "k", "label": "L"}])


UNPROCESSED = {"UnprocessedItems": {"table": [
    {"PutRequest": {"Item": {"object_key": {"S": "k"}, "label": {"S": "L"}}}}]}}


def test_rows_left_unprocessed_are_sent_again_until_the_table_takes_them(monkeypatch):
    monkeypatch.setattr("labelgraph_labeler.adapters.dynamodb.time.sleep", lambda _: None)
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_response("batch_write_item", UNPROCESSED)
        stub.add_response("batch_write_item", UNPROCESSED)
        stub.add_response("batch_write_item", {"UnprocessedItems": {}})
        DynamoDBLabelTable(dynamodb, "table").replace_rows("k", [{"object_key": "k", "label": "L"}],
                                                  first_write=True)
        stub.assert_no_pending_responses()


def test_rows_the_table_keeps_leaving_unprocessed_are_transient_not_lost(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr("labelgraph_labeler.adapters.dynamodb.time.sleep", pauses.append)
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        for _ in range(UNPROCESSED_ATTEMPTS):
            stub.add_response("batch_write_item", UNPROCESSED)
        with pytest.raises(UnprocessedRows):
            DynamoDBLabelTable(dynamodb, "table").replace_rows(
                "k", [{"object_key": "k", "label": "L"}], first_write=True)
    # Backoff between the calls (none after the last): doubling, capped, full jitter.
    assert len(pauses) == UNPROCESSED_ATTEMPTS - 1
    assert all(0 <= pause <= min(1.0, 0.05 * 2**n) for n, pause in enumerate(pauses))


class FakeRekognition:
    """Answers DetectLabels with the errors given, then with one label."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.calls = list(errors), 0

    def detect_labels(self, **_: object) -> dict[str, object]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"Labels": [{"Name": "Cat", "Confidence": 90}], "LabelModelVersion": "3.0"}


def error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "DetectLabels")


def detector(fake: FakeRekognition) -> RekognitionDetector:
    return RekognitionDetector(fake, max_labels=10, min_confidence=0,
                               retry=RetryPolicy(4, base_seconds=0.001, max_seconds=0.001))


@pytest.mark.parametrize("failure", [
    error("ThrottlingException", 400), error("ProvisionedThroughputExceededException", 400),
    error("InternalServerError", 500), error("ServiceUnavailable", 503),
    EndpointConnectionError(endpoint_url="http://rekognition")])
def test_throttling_server_and_connection_errors_are_retried_in_process(failure):
    fake = FakeRekognition(failure, failure)
    detection = detector(fake).detect(ImageSource("b", "k", bytes))
    assert [label.name for label in detection.labels] == ["Cat"]
    assert fake.calls == 3


def test_an_error_neither_permanent_nor_retryable_is_left_to_redelivery_without_retries():
    # Expired credentials, say: no use asking again at once; SQS redelivers it later.
    fake = FakeRekognition(error("ExpiredTokenException", 400))
    with pytest.raises(ClientError):
        detector(fake).detect(ImageSource("b", "k", bytes))
    assert fake.calls == 1


@pytest.mark.parametrize(("code", "reason"), [
    ("InvalidImageFormatException", "not_image"), ("ImageTooLargeException", "too_large"),
    ("InvalidS3ObjectException", "unreadable"), ("InvalidParameterException", "rejected"),
    ("AccessDeniedException", "forbidden")])
def test_rekognition_answers_that_will_not_change_are_rejections_asked_once(code, reason):
    fake = FakeRekognition(error(code, 400))
    with pytest.raises(ImageRejected) as refused:
        detector(fake).detect(ImageSource("b", "k", bytes))
    assert refused.value.reason == reason and fake.calls == 1


@pytest.mark.parametrize("body", ["{not json", "[]", '{"Records": [{"eventName": '
                                  '"ObjectCreated:Put"}]}', '{"Records": "x"}'])
def test_a_body_that_is_no_s3_notification_is_marked_not_raised(body):
    parsed = notification({"ReceiptHandle": "r", "Body": body})
    assert parsed.uploads == [] and parsed.problem


def test_an_s3_notification_names_its_decoded_uploads():
    body = ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"},'
            ' "object": {"key": "a/front+door%2B.jpg"}}}]}')
    parsed = notification({"ReceiptHandle": "r", "Body": body,
                           "Attributes": {"ApproximateReceiveCount": "2"}})
    assert parsed == Notification("r", body, parsed.uploads, receives=2)
    assert [(u.bucket, u.key) for u in parsed.uploads] == [("b", "a/front door+.jpg")]
