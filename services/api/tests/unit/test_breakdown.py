"""The breakdown's plain logic: night hours, silent detectors, alarm days, Wilson intervals."""

from __future__ import annotations

import pytest

from labelgraph_api.breakdown import (
    DAY_SECONDS,
    NightHours,
    alarm_days,
    parse_nights,
    silent_detectors,
)
from labelgraph_api.domain import BadRequest
from labelgraph_api.stats import Proportion


def test_night_hours_wrap_midnight_and_a_camera_may_have_its_own():
    nights = parse_nights(["20-6,gate:with:colons:0-5"])
    assert nights.default == NightHours(20, 6)
    assert [nights.period("yard", hour) for hour in (19, 20, 5, 6)] == [
        "day", "night", "night", "day"]
    assert nights.period("gate:with:colons", 4) == "night"
    assert nights.period("gate:with:colons", 20) == "day"


@pytest.mark.parametrize("text", ["24-6", "7-7", "x-6", "19", "-1-5", "019-7"])
def test_night_hours_refuse_what_is_no_pair_of_hours(text):
    with pytest.raises(BadRequest):
        parse_nights([text])


def test_a_detector_is_silent_only_when_it_said_nothing_on_every_image_it_labelled():
    rows = [{"detectors": ["stub", "hog"], "silent": {"stub", "hog"}},
            {"detectors": ["stub", "hog"], "silent": {"stub"}}]
    assert silent_detectors(rows) == {"stub": 2}


def test_alarm_days_are_the_window_or_the_captures_span_when_open():
    assert alarm_days(0, 2 * DAY_SECONDS, 10, 20, False, False) == 2
    assert alarm_days(-(2**62), 2**62, 0, 3 * DAY_SECONDS, True, True) == 3
    assert alarm_days(-(2**62), 2**62, 5, 5, True, True) == 1  # at least a day


def test_wilson_interval_is_honest_at_the_edges():
    assert Proportion(3, 3).interval == pytest.approx((0.4385, 1.0), abs=1e-4)
    assert not Proportion(3, 3).enough and Proportion(5, 5).enough
    assert Proportion(0, 0).as_body()["low"] is None
