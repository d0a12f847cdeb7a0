"""The logistic calibration of a detector's score (plain logic, no servers)."""

from __future__ import annotations

import pytest

from labelgraph_api.calibration import MIN_CALIBRATION_VERDICTS, fit_calibration

PEOPLE = [(True, float(score)) for score in range(40, 100, 4)]
EMPTY = [(False, float(score)) for score in range(5, 65, 4)]


def test_the_fit_rises_with_the_score_and_inverts_to_a_threshold():
    fit = fit_calibration(PEOPLE + EMPTY)
    assert fit.fitted and fit.verdicts == 30 and fit.present == 15
    low, middle, high = (fit.probability(score) for score in (10.0, 52.0, 95.0))
    assert low is not None and middle is not None and high is not None
    assert low < 0.1 < middle < 0.9 < high
    assert fit.probability(fit.threshold_for(0.8)) == pytest.approx(0.8, abs=1e-6)


def test_two_detectors_that_differ_only_in_scale_get_thresholds_in_that_scale():
    wide = fit_calibration(PEOPLE + EMPTY)
    narrow = fit_calibration([(truth, score / 4) for truth, score in PEOPLE + EMPTY])
    assert narrow.threshold_for(0.9) == pytest.approx(wide.threshold_for(0.9) / 4, rel=1e-6)


def test_perfect_separation_gives_a_steep_finite_curve():
    fit = fit_calibration([(True, 80.0)] * 10 + [(False, 20.0)] * 10)
    assert fit.fitted and fit.slope is not None and fit.slope < 100
    assert 20 < fit.threshold_for(0.5) < 80


@pytest.mark.parametrize("verdicts", [
    (PEOPLE + EMPTY)[: MIN_CALIBRATION_VERDICTS - 1],  # too few
    PEOPLE + [(False, 1.0)] * 4 + PEOPLE,  # four of one truth
    [(True, 10.0)] * 10 + [(False, 90.0)] * 10,  # scores falling with the truth
], ids=["too few", "one-sided", "inverted"])
def test_without_a_fit_the_raw_score_stands_in(verdicts):
    fit = fit_calibration(verdicts)
    assert not fit.fitted and fit.probability(50.0) is None
    assert fit.threshold_for(0.9) == 90.0
    assert fit.as_body()["enough"] is False


def test_no_label_counts_as_a_score_of_zero():
    fit = fit_calibration(PEOPLE + [(False, None)] * 15)
    assert fit.fitted and fit.mean == pytest.approx(sum(s for _, s in PEOPLE) / 30)
