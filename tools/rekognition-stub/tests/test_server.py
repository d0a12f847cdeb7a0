"""Integration tests: a real boto3 Rekognition client against the stub process, S3 in moto."""

from __future__ import annotations

import hashlib
import io
import json
import random
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker
from PIL import Image

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


def rekognition_client(url: str, **config: Any) -> Any:
    # One attempt by default: botocore's retries.max_attempts counts *retries*, so
    # total_max_attempts is what makes a throttled call fail at once.
    config.setdefault("retries", {"total_max_attempts": 1})
    return boto3.client(
        "rekognition", endpoint_url=url, region_name=REGION, config=Config(**config),
        **CREDENTIALS,
    )


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (16, 16)) -> bytes:
    """A real image of a random colour, so each one has its own digest."""
    colour = tuple(random.randrange(256) for _ in range(3))
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def detect(client: Any, bucket: str, key: str, **params: Any) -> dict[str, Any]:
    image = {"S3Object": {"Bucket": bucket, "Name": key}}
    return dict(client.detect_labels(Image=image, **params))


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def names(response: dict[str, Any]) -> list[str]:
    return [label["Name"] for label in response["Labels"]]


def admin(stub_url: str, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{stub_url}{path}", json=body, timeout=10)


@pytest.fixture(scope="module")
def s3(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url, region_name=REGION, **CREDENTIALS)


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = f"images-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def rekognition(stub: Any) -> Any:
    return rekognition_client(stub.url)


@pytest.fixture(autouse=True)
def starting_rules(stub: Any) -> Iterator[None]:
    admin(stub.url, "DELETE", "/_stub/rules").raise_for_status()
    yield


@pytest.fixture
def put_image(s3: Any, bucket: str) -> Callable[..., str]:
    def put(data: bytes | None = None, folder: str = "cam1/frontdoor") -> str:
        key = f"{folder}/{uuid.uuid4().hex}.png"
        s3.put_object(Bucket=bucket, Key=key, Body=image_bytes() if data is None else data)
        return key

    return put


def test_health(stub: Any) -> None:
    response = admin(stub.url, "GET", "/_stub/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_labelers_own_call_through_the_env_endpoint(
    stub: Any, bucket: str, put_image: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", stub.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    key = put_image()

    response = boto3.client("rekognition").detect_labels(
        Image={"S3Object": {"Bucket": bucket, "Name": key}}, MaxLabels=10, MinConfidence=0
    )

    assert response["LabelModelVersion"] == "3.0"
    assert response["Labels"] == [
        {"Name": "Tree", "Confidence": 88.1, "Instances": [], "Parents": [{"Name": "Plant"}],
         "Aliases": [], "Categories": []},
        {"Name": "Plant", "Confidence": 88.1, "Instances": [], "Parents": [], "Aliases": [],
         "Categories": []},
    ]


def test_rules_by_key_glob_and_digest_for_jpeg_and_png(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    jpeg = image_bytes("JPEG")
    by_digest = put_image(jpeg, folder="cam2/yard")
    by_glob = put_image(folder="cam1/frontdoor")
    by_key = put_image(folder="cam1/frontdoor")
    rules = {"rules": [
        {"match": {"key": by_key}, "labels": [{"Name": "Car", "Confidence": 91}]},
        {"match": {"key_glob": "*/frontdoor/*"}, "labels": [{"Name": "Person", "Confidence": 97}]},
        {"match": {"sha256": hashlib.sha256(jpeg).hexdigest()},
         "labels": [{"Name": "Dog", "Confidence": 80}]},
    ]}
    admin(stub.url, "PUT", "/_stub/rules", rules).raise_for_status()

    assert names(detect(rekognition, bucket, by_key)) == ["Car"]
    assert names(detect(rekognition, bucket, by_glob)) == ["Person"]
    assert names(detect(rekognition, bucket, by_digest)) == ["Dog"]


def test_inline_bytes(stub: Any, rekognition: Any) -> None:
    response = rekognition.detect_labels(Image={"Bytes": image_bytes("JPEG")})

    assert names(response) == ["Tree", "Plant"]


def test_max_labels_and_min_confidence(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image()
    box = {"Width": 0.2, "Height": 0.4, "Left": 0.1, "Top": 0.3}
    labels = [
        {"Name": "Person", "Confidence": 99.0, "Instances": [
            {"BoundingBox": box, "Confidence": 99.0}, {"BoundingBox": box, "Confidence": 60.0},
        ]},
        {"Name": "Car", "Confidence": 85.0},
        {"Name": "Tree", "Confidence": 70.0},
        {"Name": "Shadow", "Confidence": 50.0},
    ]
    admin(stub.url, "PUT", "/_stub/rules", {"rules": [{"labels": labels}]}).raise_for_status()

    top_two = detect(rekognition, bucket, key, MaxLabels=2, MinConfidence=0)
    confident = detect(rekognition, bucket, key, MinConfidence=80)
    by_default = detect(rekognition, bucket, key)

    assert names(top_two) == ["Person", "Car"]
    assert names(confident) == ["Person", "Car"]
    assert confident["Labels"][0]["Instances"] == [{"BoundingBox": box, "Confidence": 99.0}]
    assert names(by_default) == ["Person", "Car", "Tree"]


def test_missing_object_and_bucket(stub: Any, rekognition: Any, bucket: str) -> None:
    missing_key = lambda: detect(rekognition, bucket, "no/such/key.png")  # noqa: E731
    missing_bucket = lambda: detect(rekognition, f"nobucket-{uuid.uuid4().hex}", "k.png")  # noqa: E731

    assert error_code(missing_key) == "InvalidS3ObjectException"
    assert error_code(missing_bucket) == "InvalidS3ObjectException"


def test_not_an_image(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image(b"GIF89a not what we take")

    assert error_code(lambda: detect(rekognition, bucket, key)) == "InvalidImageFormatException"


def test_too_large(stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]) -> None:
    from_s3 = put_image(b"\xff\xd8\xff" + b"\x00" * stub.max_s3_bytes)
    inline = b"\xff\xd8\xff" + b"\x00" * stub.max_inline_bytes

    assert error_code(lambda: detect(rekognition, bucket, from_s3)) == "ImageTooLargeException"
    assert error_code(
        lambda: rekognition.detect_labels(Image={"Bytes": inline})
    ) == "ImageTooLargeException"


@pytest.mark.parametrize(
    "params",
    [
        {"Image": {"S3Object": {"Bucket": "b", "Name": "k"}}, "MaxLabels": -1},
        {"Image": {"S3Object": {"Bucket": "b", "Name": "k"}}, "MinConfidence": 100.5},
        {"Image": {}},
    ],
)
def test_bad_parameters(stub: Any, params: dict[str, Any]) -> None:
    # Client-side validation would catch some of these before the stub could.
    client = rekognition_client(stub.url, parameter_validation=False)

    assert error_code(lambda: client.detect_labels(**params)) == "InvalidParameterException"


def test_unknown_operation(stub: Any, rekognition: Any) -> None:
    call = lambda: rekognition.detect_faces(Image={"Bytes": image_bytes()})  # noqa: E731

    assert error_code(call) == "UnknownOperationException"


def test_error_is_aws_shaped_on_the_wire(stub: Any, bucket: str) -> None:
    response = httpx.post(
        stub.url,
        headers={"X-Amz-Target": "RekognitionService.DetectLabels",
                 "Content-Type": "application/x-amz-json-1.1"},
        content=json.dumps({"Image": {"S3Object": {"Bucket": bucket, "Name": "missing.png"}}}),
    )

    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidS3ObjectException"
    assert response.json()["__type"] == "InvalidS3ObjectException"


def test_throttle_the_next_calls(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image()
    throttle = {"match": {"key_glob": "*"}, "error": "ProvisionedThroughputExceededException",
                "times": 3}
    admin(stub.url, "POST", "/_stub/rules/prepend", {"rules": [throttle]}).raise_for_status()

    codes = [error_code(lambda: detect(rekognition, bucket, key)) for _ in range(3)]

    assert codes == ["ProvisionedThroughputExceededException"] * 3
    assert names(detect(rekognition, bucket, key)) == ["Tree", "Plant"]
    assert admin(stub.url, "GET", "/_stub/rules").json()["rules"][0]["times"] == 0


def test_botocore_retries_throttling_as_throttling(
    stub: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image()
    throttle = {"match": {"key": key}, "error": "ProvisionedThroughputExceededException",
                "times": 2}
    admin(stub.url, "PUT", "/_stub/rules", {"rules": [throttle]}).raise_for_status()
    patient = rekognition_client(stub.url, retries={"mode": "standard", "total_max_attempts": 3})

    response = detect(patient, bucket, key)

    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert admin(stub.url, "GET", "/_stub/calls").json()["by_key"][f"{bucket}/{key}"] == 3


def test_botocore_classifies_the_error_as_throttled(
    stub: Any, rekognition: Any, bucket: str
) -> None:
    throttle = {"error": "ProvisionedThroughputExceededException"}
    admin(stub.url, "PUT", "/_stub/rules", {"rules": [throttle]}).raise_for_status()

    with pytest.raises(ClientError) as raised:
        detect(rekognition, bucket, "any.png")

    context = RetryContext(attempt_number=1, parsed_response=raised.value.response)
    assert ThrottledRetryableChecker().is_retryable(context)


def test_rules_replaced_read_and_reset_over_http(stub: Any) -> None:
    document = {"model_version": "9.9", "default": None, "rules": [
        {"match": {"key_glob": "broken/*"}, "error": "InvalidImageFormatException"},
    ]}

    replaced = admin(stub.url, "PUT", "/_stub/rules", document)
    appended = admin(stub.url, "POST", "/_stub/rules/append",
                     {"rules": [{"labels": [{"Name": "Cat", "Confidence": 70}]}]})
    reset = admin(stub.url, "DELETE", "/_stub/rules")

    assert (replaced.status_code, replaced.json()) == (200, document)
    assert [rule["match"] for rule in appended.json()["rules"]] == [{"key_glob": "broken/*"}, {}]
    starting = json.loads(stub.rules_file.read_text())
    assert reset.json()["default"] == {"labels": [
        {**label, "Instances": [], "Aliases": [], "Categories": [],
         "Parents": label.get("Parents", [])}
        for label in starting["default"]["labels"]
    ]}


def test_model_version_comes_from_the_rules(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    admin(stub.url, "PUT", "/_stub/rules", {"model_version": "3.1"}).raise_for_status()

    response = detect(rekognition, bucket, put_image())

    assert (response["LabelModelVersion"], response["Labels"]) == ("3.1", [])


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"rules": [{"match": {"key": "a"}}]}',
        b'{"rules": [{"error": "Teapot"}]}',
    ],
)
def test_bad_rules_document_is_refused_and_changes_nothing(stub: Any, body: bytes) -> None:
    before = admin(stub.url, "GET", "/_stub/rules").json()

    refused = httpx.put(f"{stub.url}/_stub/rules", content=body)

    assert refused.status_code == 400
    assert refused.json()["error"].startswith("bad rules document: ")
    assert admin(stub.url, "GET", "/_stub/rules").json() == before


def test_calls_are_counted_per_object_and_reset(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image()
    admin(stub.url, "DELETE", "/_stub/calls").raise_for_status()

    detect(rekognition, bucket, key)
    detect(rekognition, bucket, key)
    error_code(lambda: detect(rekognition, bucket, "missing.png"))
    counted = admin(stub.url, "GET", "/_stub/calls").json()
    reset = admin(stub.url, "DELETE", "/_stub/calls").json()

    assert counted == {
        "total": 3,
        "by_key": {f"{bucket}/{key}": 2, f"{bucket}/missing.png": 1},
        "by_outcome": {"labels": 2, "InvalidS3ObjectException": 1},
    }
    assert reset == {"total": 0, "by_key": {}, "by_outcome": {}}


def test_one_log_line_per_call(
    stub: Any, rekognition: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    key = put_image()

    detect(rekognition, bucket, key)

    lines = [line for line in stub.log_file.read_text().splitlines() if key in line]
    assert len(lines) == 1
    assert lines[0].endswith(f"DetectLabels {bucket}/{key} -> Tree 88.1, Plant 88.1")


def test_fifty_concurrent_calls_are_all_answered(
    stub: Any, bucket: str, put_image: Callable[..., str]
) -> None:
    keys = [put_image() for _ in range(50)]
    client = rekognition_client(stub.url, max_pool_connections=50)
    admin(stub.url, "DELETE", "/_stub/calls").raise_for_status()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda key: names(detect(client, bucket, key)), keys))

    assert answers == [["Tree", "Plant"]] * 50
    assert admin(stub.url, "GET", "/_stub/calls").json()["total"] == 50


def test_unknown_admin_path_is_404(stub: Any) -> None:
    assert admin(stub.url, "GET", "/_stub/nothing").status_code == 404


def test_inline_bytes_match_digest_rules(stub: Any, rekognition: Any) -> None:
    png = image_bytes()
    rule = {"match": {"sha256": hashlib.sha256(png).hexdigest()},
            "labels": [{"Name": "Cat", "Confidence": 90}]}
    admin(stub.url, "PUT", "/_stub/rules", {"rules": [rule]}).raise_for_status()

    assert names(rekognition.detect_labels(Image={"Bytes": png})) == ["Cat"]
