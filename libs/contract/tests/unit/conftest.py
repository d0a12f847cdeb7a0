import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    encode_event,
    labelling_event_id,
)

PACIFIC_STANDARD = timezone(timedelta(hours=-8))


def make_event(**overrides: object) -> ImageLabeled:
    captured = datetime(2016, 11, 30, 23, 30, 5, tzinfo=PACIFIC_STANDARD)
    identity = dict(bucket="security-alarms", object_key="alarms/frontdoor/2016-11-30/23/a.jpg",
                    image_etag="abc", detector="aws-rekognition", model_version="3.0")
    fields: dict[str, object] = dict(
        event_id=labelling_event_id(**identity),
        **identity,
        camera="frontdoor",
        **captured_fields(captured),
        labeled_at=datetime(2026, 11, 25, tzinfo=UTC),
        labels=[DetectedLabel(name="Person", confidence=99.2, parents=["Human"])],
    )
    fields.update(overrides)
    return ImageLabeled.model_validate(fields)


@pytest.fixture
def payload() -> dict[str, Any]:
    """A valid message value as a JSON document, for a test to spoil."""
    document: dict[str, Any] = json.loads(encode_event(make_event()).value)
    return document
