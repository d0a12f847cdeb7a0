"""Which hours a page newest first reads, from the day tallies' counts and offsets."""

from labelgraph_api.newest_hours import HourPick, counts_by_hour, newest_hours, without
from labelgraph_api.tallies import utc_midnight
from labelgraph_api.windows import EARLIEST

DAY = "2016-11-06"
MIDNIGHT = utc_midnight(DAY)
HOUR = 3_600


def test_the_newest_hours_holding_a_page_and_every_hour_that_can_hold_a_newer_capture():
    counts = {("a", DAY, 10): 3, ("a", DAY, 9): 4, ("a", DAY, 8): 5, ("b", DAY, 9): 1}
    # Camera b is an hour behind UTC: its local 09:00 is 10:00 UTC, newer than a's 09:00.
    offsets = {("a", DAY): [0], ("b", DAY): [-60]}
    pick = newest_hours(counts, offsets, since=0, edge=MIDNIGHT + 24 * HOUR, need=6)
    assert pick == HourPick((f"{DAY}T09a", f"{DAY}T09b", f"{DAY}T10a"),
                            MIDNIGHT + 9 * HOUR, every=False)


def test_too_few_images_read_every_hour_holding_one_and_a_node_without_offsets_none():
    counts = {("a", DAY, 10): 3, ("a", DAY, 2): 0}
    assert newest_hours(counts, {("a", DAY): [0]}, 0, MIDNIGHT + 24 * HOUR, 4) == HourPick(
        (f"{DAY}T10a",), EARLIEST, every=True)
    assert newest_hours(counts, {}, 0, MIDNIGHT + 24 * HOUR, 4) is None


def test_an_hour_past_the_cursor_or_straddling_it_counts_nothing():
    counts = {("a", DAY, 10): 50, ("a", DAY, 9): 2}
    edge = MIDNIGHT + 10 * HOUR + 60  # the cursor, a minute into 10:00
    pick = newest_hours(counts, {("a", DAY): [0]}, 0, edge, need=2)
    assert pick is not None and pick.camera_hours == (f"{DAY}T09a", f"{DAY}T10a")
    assert pick.settled_from == MIDNIGHT + 9 * HOUR
    assert pick.settles([{"timestamp": MIDNIGHT + 9 * HOUR + 5}] * 2, 2)
    assert not pick.settles([{"timestamp": MIDNIGHT + 9 * HOUR - 5}] * 2, 2)
    assert not pick.settles([{"timestamp": MIDNIGHT + 9 * HOUR + 5}], 2)


def test_the_doubled_hour_of_the_day_the_clocks_went_back_spans_both_offsets():
    counts = {("a", DAY, 1): 2}
    pick = newest_hours(counts, {("a", DAY): [-480, -420]}, since=0,
                        edge=MIDNIGHT + 48 * HOUR, need=2)
    # 01:00 at -07:00 is 08:00 UTC; 02:00 at -08:00 is 10:00 UTC.
    assert pick == HourPick((f"{DAY}T01a",), MIDNIGHT + 8 * HOUR, every=False)


def test_images_without_a_label_are_the_images_less_the_labels_cells():
    images = counts_by_hour([{"camera": "a", "period": DAY, "cells": [0] * 9 + [5] + [0] * 14}],
                            of_label=False)
    labelled = counts_by_hour([{"camera": "a", "period": DAY,
                                "cells": [9 * 101 + 95, 2, 9 * 101 + 40, 1]}], of_label=True)
    assert without(images, labelled) == {("a", DAY, 9): 2}
    assert counts_by_hour([{"camera": "a", "period": DAY, "cells": [9 * 101 + 95, 2,
                                                                    9 * 101 + 40, 1]}],
                          of_label=True, min_confidence=90) == {("a", DAY, 9): 2}
