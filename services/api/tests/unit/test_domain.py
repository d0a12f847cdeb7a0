"""The api's plain logic and settings, without servers."""

from __future__ import annotations

import base64
import random

import pytest
from pydantic import ValidationError

from labelgraph_api.config import ApiSettings, KeysMissing
from labelgraph_api.domain import (
    BadRequest,
    confusion,
    curve,
    decode_cursor,
    encode_cursor,
    query_digest,
    review_key,
    roll_up,
    rollup_keys,
    rollup_parts,
    stored_boxes,
)

QUERY = query_digest([("camera", "front"), ("label", "Person")])


def test_a_cursor_round_trips_and_foreign_ones_are_refused():
    assert decode_cursor(encode_cursor((12, "a/b"), QUERY), (int, str), QUERY) == [12, "a/b"]
    assert decode_cursor(encode_cursor((-1, 5, "k"), QUERY), (float, int, str),
                         QUERY) == [-1, 5, "k"]
    with pytest.raises(BadRequest):
        decode_cursor(base64.urlsafe_b64encode(b'[[Infinity, 1, "k"], ""]').decode(),
                      (float, int, str), "")
    foreign = [
        "%%%", base64.urlsafe_b64encode(b"{}").decode(),
        base64.urlsafe_b64encode(b'[12, "a"]').decode(),  # a cursor of before the digest
        encode_cursor(("12", "a"), QUERY), encode_cursor((True, "a"), QUERY),
        encode_cursor((1,), QUERY), encode_cursor((2**70, "a"), QUERY),
        encode_cursor((1.5, "a"), QUERY),
    ]
    for cursor in foreign:
        with pytest.raises(BadRequest, match="not one this api returned"):
            decode_cursor(cursor, (int, str), QUERY)


def test_a_cursor_pages_only_the_query_it_was_made_for():
    cursor = encode_cursor((12, "a"), QUERY)
    same = query_digest([("label", "Person"), ("camera", "front")])  # any order
    assert decode_cursor(cursor, (int, str), same) == [12, "a"]
    other = query_digest([("camera", "back"), ("label", "Person")])
    with pytest.raises(BadRequest, match="other filters"):
        decode_cursor(cursor, (int, str), other)


def box(left, top, width, height, confidence):
    return {"left": left, "top": top, "width": width, "height": height,
            "confidence": confidence}


def test_stored_boxes_are_parsed_and_whatever_is_no_box_is_dropped():
    assert stored_boxes("[[0.1,0.2,0.3,0.4,99.5],[0,0,1,1,0]]") == [
        box(0.1, 0.2, 0.3, 0.4, 99.5), box(0.0, 0.0, 1.0, 1.0, 0.0)]
    assert stored_boxes(None) == [] and stored_boxes("[]") == []  # edges before boxes
    kept = [0.5, 0.5, 0.25, 0.25, 90]
    spoilt = [[1.5, 0, 0.1, 0.1, 50], [0, -0.1, 0.1, 0.1, 50], [0, 0, 0.1, 0.1, 100.5],
              [0, 0, 0.1, 0.1], [0, 0, 0.1, 0.1, 50, 1], [True, 0, 0.1, 0.1, 50],
              ["0.1", 0, 0.1, 0.1, 50], [None, 0, 0.1, 0.1, 50], {"left": 0}, "box", 7]
    text = "[" + ",".join(map(repr, [kept, *spoilt])).replace("'", '"').replace(
        "True", "true").replace("None", "null") + "]"
    assert stored_boxes(text) == [box(0.5, 0.5, 0.25, 0.25, 90.0)]


@pytest.mark.parametrize("stored", [
    "not json", '{"left": 0.1}', "[NaN, 0, 0, 0, 1]", "[[NaN,0,0.1,0.1,50]]",
    "[[1e999,0,0.1,0.1,50]]", "[" * 4000 + "]" * 4000,
    "[" + ",".join(["[0,0,0.1,0.1,50]"] * 500) + "]",  # past 8,192 characters
    ["[0,0,0.1,0.1,50]"], 42,
])
def test_stored_boxes_that_are_no_bounded_json_list_give_none(stored):
    assert stored_boxes(stored) == []


def test_at_most_a_hundred_boxes_a_label():
    text = "[" + ",".join(["[0,0,0.1,0.1,50]"] * 150) + "]"
    assert len(stored_boxes(text)) == 100


def test_review_keys_cannot_collide_across_key_and_label():
    assert review_key("a|b", "c") != review_key("a", "b|c")


def test_roll_up_keeps_each_buckets_calendar_identity_unless_asked_across_it():
    rows = [{"camera": "x", "year": 2016, "month": 11, "day": 5, "hour": 7, "images": 2},
            {"camera": "y", "year": 2017, "month": 11, "day": 6, "hour": 7, "images": 3},
            {"camera": "x", "year": 2017, "month": 12, "day": 5, "hour": 8, "images": 4}]
    assert roll_up(rows, ["month"]) == [{"year": 2016, "month": 11, "images": 2},
                                        {"year": 2017, "month": 11, "images": 3},
                                        {"year": 2017, "month": 12, "images": 4}]
    assert roll_up(rows, ["month_of_year"]) == [{"month_of_year": 11, "images": 5},
                                                {"month_of_year": 12, "images": 4}]
    assert roll_up(rows, ["day"]) == [{"date": "2016-11-05", "images": 2},
                                      {"date": "2017-11-06", "images": 3},
                                      {"date": "2017-12-05", "images": 4}]
    assert roll_up(rows, ["day_of_month"]) == [{"day_of_month": 5, "images": 6},
                                               {"day_of_month": 6, "images": 3}]
    assert roll_up(rows, ["hour_of_day", "camera"]) == [
        {"camera": "x", "hour_of_day": 7, "images": 2},
        {"camera": "x", "hour_of_day": 8, "images": 4},
        {"camera": "y", "hour_of_day": 7, "images": 3}]
    assert roll_up(rows[:1], ["hour"]) == [{"date": "2016-11-05", "hour": 7, "images": 2}]
    assert roll_up(rows, ["year", "month"]) == roll_up(rows, ["month"])
    assert roll_up([], ["year"]) == []


def test_rollup_keys_come_repeated_or_separated_by_commas():
    assert rollup_keys(["year,month", "camera"]) == ["year", "month", "camera"]
    assert rollup_keys(["year", "month"]) == rollup_keys(["year, month"])
    assert rollup_parts(["day", "hour_of_day"]) == ["day", "hour", "month", "year"]
    for bad in (["week"], ["year,year"], ["year", "year"], [""], ["year,"]):
        with pytest.raises(BadRequest):
            rollup_keys(bad)


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


@pytest.mark.parametrize("seed", range(5))
def test_each_point_of_the_curve_is_the_confusion_at_its_threshold(seed):
    rng = random.Random(seed)
    # Confidences on the thresholds themselves too: a tie counts as flagged.
    verdicts = [(rng.random() < 0.4, rng.choice([None, float(rng.randrange(0, 101, 5)),
                                                 rng.uniform(0, 100)]))
                for _ in range(rng.randrange(0, 300))]

    def counted(threshold: float) -> tuple[int, int, int, int]:  # one verdict at a time
        flagged = [(truth, c is not None and c >= threshold) for truth, c in verdicts]
        return (flagged.count((True, True)), flagged.count((False, True)),
                flagged.count((True, False)), flagged.count((False, False)))
    for step in (5, 2.5, 30):
        assert [(point.true_positives, point.false_positives, point.false_negatives,
                 point.true_negatives) for point in curve(verdicts, step)] == [
            counted(point.threshold) for point in curve([], step)]
        assert [confusion(verdicts, point.threshold) for point in curve([], step)] == \
            curve(verdicts, step)


def test_settings_refuse_to_serve_without_keys_unless_the_dev_flag_is_set(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_INSECURE_NO_AUTH", raising=False)
    keyless = ApiSettings()  # the maintenance commands need no key
    with pytest.raises(KeysMissing, match="API_KEYS is empty"):
        keyless.refuse_to_serve_without_keys()
    monkeypatch.setenv("API_INSECURE_NO_AUTH", "true")
    ApiSettings().refuse_to_serve_without_keys()
    assert ApiSettings().key_set == frozenset()
    monkeypatch.setenv("API_KEYS", " one, two ,,")
    assert ApiSettings().key_set == {"one", "two"}


def test_trusted_proxies_are_addresses_or_networks_and_none_by_default(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.setenv("API_KEYS", "k")
    monkeypatch.delenv("API_TRUSTED_PROXIES", raising=False)
    assert ApiSettings().trusted_proxies == ()
    monkeypatch.setenv("API_TRUSTED_PROXIES", " 10.0.0.0/24, 192.0.2.7,,::1 ")
    assert [str(net) for net in ApiSettings().trusted_proxies] == [
        "10.0.0.0/24", "192.0.2.7/32", "::1/128"]
    for wrong in ("*", "10.0.0.7/24", "proxy.internal"):  # everyone, host bits, a name
        monkeypatch.setenv("API_TRUSTED_PROXIES", wrong)
        with pytest.raises(ValidationError, match="API_TRUSTED_PROXIES"):
            ApiSettings()
