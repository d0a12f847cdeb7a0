"""DetectLabels semantics: request checks, image checks, the rules' answer, filtering."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rekognition_stub.errors import RekognitionError
from rekognition_stub.rules import Answer, Label, RuleBook, Subject

DEFAULT_MIN_CONFIDENCE = 55.0
_MAGIC_NUMBERS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG


class ObjectUnreadable(Exception):
    """The S3 object cannot be read: no such bucket or key, or no access."""


class ObjectTooLarge(Exception):
    """The S3 object is larger than the caller allowed."""


class ImageStore(Protocol):
    """Where S3 images come from."""

    def read(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        """The object's bytes; raises ObjectUnreadable, or ObjectTooLarge past max_bytes."""
        ...


@dataclass(frozen=True)
class Limits:
    """The largest images accepted; AWS allows 15 MB from S3 and 5 MB inline."""

    s3_bytes: int = 15 * 1024 * 1024
    inline_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class S3Image:
    """An image in S3, as DetectLabels names it."""

    bucket: str
    key: str
    version: str | None = None


@dataclass(frozen=True)
class DetectLabelsRequest:
    """A checked DetectLabels request: the image (in S3 or inline bytes) and the filters."""

    image: S3Image | bytes
    max_labels: int | None = None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    @property
    def object_name(self) -> str | None:
        """'bucket/key' for an S3 image, None for inline bytes."""
        if isinstance(self.image, bytes):
            return None
        return f"{self.image.bucket}/{self.image.key}"


def parse_request(body: Any) -> DetectLabelsRequest:
    """Check a DetectLabels JSON body as AWS does; raise InvalidParameterException."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    image = body.get("Image")
    if not isinstance(image, dict) or ("S3Object" in image) == ("Bytes" in image):
        raise _invalid("Image must have exactly one of S3Object or Bytes.")
    max_labels = _max_labels(body.get("MaxLabels"))
    min_confidence = _min_confidence(body.get("MinConfidence"))
    source = _decode(image["Bytes"]) if "Bytes" in image else _s3_image(image["S3Object"])
    return DetectLabelsRequest(source, max_labels, min_confidence)


def detect_labels(
    request: DetectLabelsRequest, rules: RuleBook, store: ImageStore, limits: Limits
) -> dict[str, Any]:
    """The DetectLabels response AWS would give under these rules; raise RekognitionError."""
    answer = _answer(request, rules, store, limits)
    if answer.error is not None:
        raise RekognitionError(answer.error, answer.message)
    return {
        "Labels": filter_labels(answer.labels, request.min_confidence, request.max_labels),
        "LabelModelVersion": rules.document().model_version,
    }


def filter_labels(
    labels: tuple[Label, ...], min_confidence: float, max_labels: int | None
) -> list[Label]:
    """Labels and instances at or above min_confidence, the max_labels most confident."""
    kept = [
        _instances_above(label, min_confidence)
        for label in labels
        if label["Confidence"] >= min_confidence
    ]
    kept.sort(key=lambda label: label["Confidence"], reverse=True)
    return kept if max_labels is None else kept[:max_labels]


def check_image(image: bytes, max_bytes: int) -> None:
    """Refuse images too large or neither JPEG nor PNG, as AWS does."""
    if len(image) > max_bytes:
        raise RekognitionError("ImageTooLargeException")
    if not image.startswith(_MAGIC_NUMBERS):
        raise RekognitionError("InvalidImageFormatException")


def _answer(
    request: DetectLabelsRequest, rules: RuleBook, store: ImageStore, limits: Limits
) -> Answer:
    subject = _subject(request.image)
    answer = rules.answer(subject)
    if answer is not None and answer.error is not None:
        # AWS throttles or refuses before it looks at the image, so a forced error wins.
        return answer
    image = _read_image(request, store, limits)
    if answer is None:
        answer = rules.answer(replace(subject, sha256=_digest(image)))
    assert answer is not None, "a known digest always decides"
    return answer


def _read_image(request: DetectLabelsRequest, store: ImageStore, limits: Limits) -> bytes:
    source = request.image
    if isinstance(source, bytes):
        check_image(source, limits.inline_bytes)
        return source
    try:
        image = store.read(source.bucket, source.key, source.version, limits.s3_bytes)
    except ObjectUnreadable as error:
        raise RekognitionError("InvalidS3ObjectException") from error
    except ObjectTooLarge as error:
        raise RekognitionError("ImageTooLargeException") from error
    check_image(image, limits.s3_bytes)
    return image


def _instances_above(label: Label, min_confidence: float) -> Label:
    instances = [item for item in label["Instances"] if item["Confidence"] >= min_confidence]
    return {**label, "Instances": instances}


def _subject(source: S3Image | bytes) -> Subject:
    if isinstance(source, bytes):
        return Subject(bucket=None, key=None, sha256=_digest(source))
    return Subject(bucket=source.bucket, key=source.key, sha256=None)


def _digest(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


def _max_labels(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise _invalid("MaxLabels must be a whole number >= 0.")
    return raw


def _min_confidence(raw: Any) -> float:
    if raw is None:
        return DEFAULT_MIN_CONFIDENCE
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        raise _invalid("MinConfidence must be a number from 0 to 100.")
    return float(raw)


def _decode(raw: Any) -> bytes:
    try:
        image = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
    except binascii.Error:
        image = b""
    if not image:
        raise _invalid("Image.Bytes must be non-empty base64.")
    return image


def _s3_image(raw: Any) -> S3Image:
    if not isinstance(raw, dict):
        raise _invalid("Image.S3Object must be an object.")
    bucket, key, version = raw.get("Bucket"), raw.get("Name"), raw.get("Version")
    if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key):
        raise _invalid("Image.S3Object needs a Bucket and a Name.")
    if version is not None and not isinstance(version, str):
        raise _invalid("Image.S3Object.Version must be a string.")
    return S3Image(bucket, key, version)


def _invalid(message: str) -> RekognitionError:
    return RekognitionError("InvalidParameterException", message)
