"""Comparing detectors: the fair image set, target recall, per-detector thresholds, queue
reasons (plain logic, no servers)."""

from __future__ import annotations

import pytest

from labelgraph_api.domain import (
    DISAGREEMENT,
    UNLABELLED,
    BadRequest,
    compare_detectors,
    confusion,
    parse_thresholds,
    queue_reason,
    threshold_for_recall,
)


def row(present, detectors, **confidences):
    return {"present": present, "detectors": detectors,
            "confidences": confidences}


def test_only_images_every_compared_detector_labelled_are_compared():
    rows = [row(True, ["ssd", "hog"], ssd=95.0),          # hog labelled it without the label
            row(True, ["ssd"], ssd=80.0),                 # hog never saw it: left out
            row(False, ["ssd", "hog"], hog=60.0),
            row(True, ["hog"], hog=99.0)]                 # ssd never saw it: left out
    compared = compare_detectors(rows)
    assert compared.detectors == ("hog", "ssd")
    assert compared.reviewed == 4 and compared.shared == 2
    assert compared.labelled_by == {"hog": 3, "ssd": 3}
    assert compared.verdicts == {"ssd": [(True, 95.0), (False, None)],
                                 "hog": [(True, None), (False, 60.0)]}
    # A detector labelling the image without the label misses it; one not asked is no judge.
    only_ssd = compare_detectors(rows, ["ssd"])
    assert only_ssd.shared == 3 and only_ssd.verdicts["ssd"] == [
        (True, 95.0), (True, 80.0), (False, None)]
    assert confusion(only_ssd.verdicts["ssd"], 90).false_negatives == 1


def test_no_reviewed_images_compare_nothing():
    assert compare_detectors([]).detectors == () and compare_detectors([]).shared == 0
    asked = compare_detectors([], ["ssd"])
    assert asked.detectors == ("ssd",) and asked.verdicts == {"ssd": []}


def test_target_recall_is_the_highest_threshold_still_finding_enough():
    # 4 present: 97, 90, 60, never flagged (None); 2 absent: 95, 10.
    verdicts = [(True, 97.0), (True, 90.0), (True, 60.0), (True, None), (False, 95.0),
                (False, 10.0)]
    half = threshold_for_recall(verdicts, 50)
    assert half.reached and half.threshold == 90.0
    assert half.at_threshold == confusion(verdicts, 90.0)
    assert half.at_threshold.precision == pytest.approx(2 / 3)
    three_quarters = threshold_for_recall(verdicts, 75)
    assert three_quarters.threshold == 60.0 and three_quarters.best_recall == 0.75
    never = threshold_for_recall(verdicts, 95)  # one person no threshold ever flags
    assert not never.reached and never.threshold is None and never.at_threshold is None
    assert never.best_recall == 0.75


def test_target_recall_on_exact_shares_and_without_presences():
    verdicts = [(True, float(c)) for c in range(1, 21)]  # 20 present, confidences 1..20
    assert threshold_for_recall(verdicts, 95).threshold == 2.0  # 19 of 20 is exactly 95%
    assert threshold_for_recall(verdicts, 100).threshold == 1.0
    nobody = threshold_for_recall([(False, 99.0)], 95)
    assert not nobody.reached and nobody.best_recall is None


def test_per_detector_thresholds_parse_and_refuse_what_they_cannot_mean():
    assert parse_thresholds(["ssd-mobilenet-v2-coco:50,opencv-hog:30.5", "a:b:0"]) == {
        "ssd-mobilenet-v2-coco": 50.0, "opencv-hog": 30.5, "a:b": 0.0}
    assert parse_thresholds([]) == {}
    for bad in (["ssd"], [":50"], ["ssd:high"], ["ssd:101"], ["ssd:-1"], ["ssd:5,ssd:6"],
                ["x" * 257 + ":5"], [",".join(f"d{i}:1" for i in range(21))]):
        with pytest.raises(BadRequest):
            parse_thresholds(bad)


def test_queue_reasons_follow_the_queue_phases():
    assert [queue_reason(score) for score in (DISAGREEMENT, UNLABELLED, 0.0, 42.5)] == [
        "disagreement", "unlabelled", "least confident", "least confident"]


def test_an_empty_list_of_asked_detectors_compares_none():
    rows = [{"present": True, "detectors": ["ssd"], "confidences": {"ssd": 90.0}}]
    compared = compare_detectors(rows, [])
    assert (compared.detectors, compared.shared, compared.labelled_by) == ((), 0, {})
