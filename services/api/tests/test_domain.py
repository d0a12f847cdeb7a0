"""The api's plain logic and settings, without servers."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from labelgraph_api.config import ApiSettings
from labelgraph_api.domain import (
    BadRequest,
    confusion,
    curve,
    decode_cursor,
    encode_cursor,
    review_key,
    roll_up,
)


def test_a_cursor_round_trips_and_foreign_ones_are_refused():
    assert decode_cursor(encode_cursor((12, "a/b")), (int, str)) == [12, "a/b"]
    assert decode_cursor(encode_cursor((-1, 5, "k")), (float, int, str)) == [-1, 5, "k"]
    with pytest.raises(BadRequest):
        decode_cursor(base64.urlsafe_b64encode(b'[Infinity, 1, "k"]').decode(), (float, int, str))
    foreign = [
        "%%%", base64.urlsafe_b64encode(b"{}").decode(),
        encode_cursor(("12", "a")), encode_cursor((True, "a")), encode_cursor((1,)),
        encode_cursor((2**70, "a")), encode_cursor((1.5, "a")),
    ]
    for cursor in foreign:
        with pytest.raises(BadRequest):
            decode_cursor(cursor, (int, str))


def test_review_keys_cannot_collide_across_key_and_label():
    assert review_key("a|b", "c") != review_key("a", "b|c")


def test_roll_up_sums_hours_into_the_asked_dimensions():
    rows = [{"camera": "x", "year": 2016, "month": 11, "day": 5, "hour": 7, "images": 2},
            {"camera": "y", "year": 2017, "month": 11, "day": 6, "hour": 7, "images": 3},
            {"camera": "x", "year": 2017, "month": 12, "day": 5, "hour": 8, "images": 4}]
    assert roll_up(rows, ["month"]) == [{"month": 11, "images": 5}, {"month": 12, "images": 4}]
    assert roll_up(rows, ["hour", "camera"]) == [
        {"hour": 7, "camera": "x", "images": 2}, {"hour": 7, "camera": "y", "images": 3},
        {"hour": 8, "camera": "x", "images": 4}]
    assert roll_up([], ["year"]) == []


def test_confusion_counts_absent_confidences_as_not_flagged():
    verdicts = [(True, 99.0), (True, None), (True, 80.0), (False, 95.0), (False, None)]
    point = confusion(verdicts, 90)
    assert (point.true_positives, point.false_positives, point.false_negatives,
            point.true_negatives) == (1, 1, 2, 1)
    assert point.precision == 0.5 and point.recall == 1 / 3
    assert point.false_negative_rate == 2 / 3
    empty = confusion([], 90)
    assert empty.precision is None and empty.recall is None


def test_the_curve_runs_from_0_to_100():
    assert [point.threshold for point in curve([], 25)] == [0, 25, 50, 75, 100]
    assert [point.threshold for point in curve([], 30)] == [0, 30, 60, 90, 100]


def test_settings_refuse_no_keys_unless_the_dev_flag_is_set(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_INSECURE_NO_AUTH", raising=False)
    with pytest.raises(ValidationError, match="API_KEYS is empty"):
        ApiSettings()
    monkeypatch.setenv("API_INSECURE_NO_AUTH", "true")
    assert ApiSettings().key_set == frozenset()
    monkeypatch.setenv("API_KEYS", " one, two ,,")
    assert ApiSettings().key_set == {"one", "two"}
