"""Reading tallies: hand-built cells decode as the graph-writer's format says, and a window
split between tallies and its end dates' images answers what the images alone answer."""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from labelgraph_api.tallies import (
    BUCKETS,
    Cell,
    add_histograms,
    add_rollups,
    calendar_days,
    cells,
    days_of,
    end_dates,
    end_days,
    histogram_rows,
    images_counted,
    months_to_open,
    per_period,
    rollup_rows,
    sightings_rows,
    split,
    tally_key,
    tally_property,
    unsettled_ends,
)
from labelgraph_api.windows import EARLIEST, LATEST, Window, window

START = datetime(2016, 10, 20, tzinfo=UTC)
CONFIDENCES = (0.0, 12.5, 49.5, 89.0, 89.999, 90.0, 99.99, 100.0)
CAMERAS = ("cam-a", "cam-b")


def test_keys_and_property_names_are_the_writers():
    assert tally_key("day", 'cam "1"', "2016-11-30") == '["day","cam \\"1\\"","2016-11-30"]'
    label = "Person" * 40
    digest = hashlib.blake2b(json.dumps(["det-a", label], separators=(",", ":")).encode(),
                             digest_size=12).hexdigest()
    assert tally_property("det-a", label) == "l_" + digest
    assert tally_property(None, None).startswith("i_")
    assert tally_property(None, None) != tally_property("*", "*")
    assert tally_property(None, "x") == tally_property("*", "x")


def test_cells_decode_hours_and_buckets():
    assert list(cells([3, 0, 2, 0] + [0] * 20, of_label=False)) == [Cell(0, None, 3),
                                                                     Cell(2, None, 2)]
    sparse = [5, 1, 23 * BUCKETS + 100, 4]
    assert list(cells(sparse, of_label=True)) == [Cell(0, 5, 1), Cell(23, 100, 4)]
    assert list(cells(None, of_label=True)) == []
    with pytest.raises(ValueError):
        list(cells([5, 1, 7], of_label=True))


def images(count: int, seed: int) -> list[dict[str, object]]:
    """Images over 100 days on two cameras, each image in its own zone (UTC-12 to +14)."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        moment = START + timedelta(seconds=rng.randrange(100 * 86_400))
        local = moment.astimezone(timezone(timedelta(hours=rng.randint(-12, 14))))
        made.append({"camera": rng.choice(CAMERAS), "timestamp": int(moment.timestamp()),
                     "isodate": local.isoformat(),
                     "confidence": rng.choice((None, *CONFIDENCES))})
    return made


def stored(all_images) -> dict[str, dict[str, list[int]]]:
    """The tally nodes the graph-writer keeps for these images (one view, one label)."""
    nodes: dict[str, dict[tuple[int, int | None], int]] = {}
    for image in all_images:
        isodate = str(image["isodate"])
        hour = int(isodate[11:13])
        for level, period in (("day", isodate[:10]), ("month", isodate[:7])):
            node = nodes.setdefault(tally_key(level, str(image["camera"]), period), {})
            node[(hour, None)] = node.get((hour, None), 0) + 1
            if image["confidence"] is not None:
                bucket = min(100, max(0, math.floor(float(image["confidence"]))))
                node[(hour, bucket)] = node.get((hour, bucket), 0) + 1
    properties = {}
    for key, counts in nodes.items():
        labelled = sorted((hour * BUCKETS + bucket, count)
                          for (hour, bucket), count in counts.items() if bucket is not None)
        properties[key] = {
            "images": [counts.get((hour, None), 0) for hour in range(24)],
            "label": [value for pair in labelled for value in pair]}
    return properties


def read(nodes, keys, prop):
    """What the tally statement returns for those keys: the nodes holding the property."""
    return [{"camera": json.loads(key)[1], "period": json.loads(key)[2],
             "cells": nodes[key][prop]} for key in keys if key in nodes and nodes[key][prop]]


def in_window(all_images, since, until, dates=None):
    return [image for image in all_images if since <= image["timestamp"] < until
            and (dates is None or str(image["isodate"])[:10] in dates)]


def histogram(chosen, width, threshold):
    """The histogram statement's answer, computed over images."""
    totals: dict[float, list[int]] = {}
    for image in chosen:
        confidence = image["confidence"]
        if confidence is None:
            continue
        bucket = float(math.floor(confidence) if width is None
                       else math.floor(confidence / width) * width)
        held = totals.setdefault(bucket, [0, 0])
        held[0] += 1
        held[1] += confidence >= threshold
    return [{"bucket": b, "images": n, "at_or_above": a} for b, (n, a) in sorted(totals.items())]


def rollup(chosen, parts, labelled, min_confidence):
    groups: dict[tuple[object, ...], int] = {}
    for image in chosen:
        if labelled and (image["confidence"] is None or image["confidence"] < min_confidence):
            continue
        iso = str(image["isodate"])
        values = (image["camera"], int(iso[:4]), int(iso[5:7]), int(iso[8:10]), int(iso[11:13]))
        group = tuple(v if p in parts else None for p, v in
                      zip(("camera", "year", "month", "day", "hour"), values, strict=True))
        groups[group] = groups.get(group, 0) + 1
    return sorted((dict(zip(("camera", "year", "month", "day", "hour", "images"), (*g, n),
                            strict=True)) for g, n in groups.items()), key=repr)


def windows(seed):
    rng = random.Random(seed)
    for _ in range(6):
        since = int((START + timedelta(seconds=rng.randrange(40 * 86_400))).timestamp())
        until = since + rng.randrange(86_400, 70 * 86_400)
        yield window(since, until)
    yield window(int((START - timedelta(days=3)).timestamp()),
                 int((START + timedelta(days=103)).timestamp()))


@pytest.mark.parametrize("seed", range(4))
def test_tallies_inside_and_images_at_the_ends_answer_as_the_images(seed):
    all_images = images(1_500, seed)
    nodes = stored(all_images)
    for span in windows(seed):
        for by_day in (False, True):
            parts = split(span, by_day)
            covered = parts.edges + parts.days + tuple(
                day for day in span.dates if day[:7] in parts.months)
            assert sorted(covered) == list(span.dates), "each date read once"
            labels = read(nodes, parts.keys(CAMERAS), "label")
            edges = in_window(all_images, span.since, span.until, parts.edges)
            every = in_window(all_images, span.since, span.until)
            for width, threshold in ((None, 90.0), (5.0, 89.0), (1.0, 100.0), (10.0, 0.0)):
                assert add_histograms(histogram_rows(labels, width, threshold),
                                      histogram(edges, width, threshold)
                                      ) == histogram(every, width, threshold)
            counted = images_counted(read(nodes, parts.keys(CAMERAS), "images"))
            assert counted + len(edges) == len(every)
            for parts_asked in (["camera", "month", "year"], ["hour"],
                                ["camera", "day", "hour", "month", "year"]):
                if "day" in parts_asked and not by_day:
                    continue
                for labelled, at in ((False, 0), (True, 90), (True, 0), (True, 100)):
                    tallied = rollup_rows(read(nodes, parts.keys(CAMERAS),
                                               "label" if labelled else "images"),
                                          parts_asked, "L" if labelled else None, at)
                    assert sorted(add_rollups(tallied, rollup(edges, parts_asked, labelled, at)),
                                  key=repr) == rollup(every, parts_asked, labelled, at)


def sightings(chosen, at):
    rows = {}
    for image in chosen:
        if image["confidence"] is not None and image["confidence"] >= at:
            held = rows.setdefault(image["camera"], [0, image["timestamp"], image["timestamp"]])
            held[0] += 1
            held[1] = min(held[1], image["timestamp"])
            held[2] = max(held[2], image["timestamp"])
    return [{"camera": camera, "images": n, "first_ts": first, "last_ts": last}
            for camera, (n, first, last) in rows.items()]


def captured(day, hour, minute, offset):
    local = datetime(2016, 11, day, hour, minute, tzinfo=timezone(timedelta(hours=offset)))
    return {"camera": "cam-a", "timestamp": int(local.timestamp()),
            "isodate": local.isoformat(), "confidence": 95.0}


# Filed under a later local date, captured earlier: the first capture is on 2 Nov (UTC+14),
# not on 1 Nov (UTC-12), and the last on 29 Nov, not 30 Nov.
FAR_ZONES = [captured(1, 23, 0, -12), captured(2, 0, 30, 14), captured(29, 23, 0, -12),
             captured(30, 1, 0, 14)]


@pytest.mark.parametrize("seed", range(8))
def test_sightings_first_and_last_capture_from_the_dates_that_hold_them(seed):
    all_images = images(600, seed) + FAR_ZONES
    nodes = stored(all_images)
    all_dates = tuple(sorted({str(image["isodate"])[:10] for image in all_images}))
    for span in (*windows(seed), Window(EARLIEST, LATEST, all_dates)):
        parts = split(span)
        for at in (0, 90, 100):
            counts = per_period(read(nodes, parts.keys(CAMERAS), "label"), at)
            edges = sightings(in_window(all_images, span.since, span.until, parts.edges), at)
            ends = unsettled_ends(counts, edges)
            day_keys = [tally_key("day", camera, day)
                        for camera, month in sorted(months_to_open(ends))
                        for day in days_of(month)]
            ends = end_days(ends, per_period(read(nodes, day_keys, "label"), at))
            found = sightings(in_window(all_images, span.since, span.until, end_dates(ends)), at)
            found = [row for row in found if row["camera"] in ends]
            expected = sorted(sightings(in_window(all_images, span.since, span.until), at),
                              key=lambda row: (-row["images"], row["camera"]))
            assert sightings_rows(counts, edges, found) == expected


def test_far_zones_hold_each_end_on_another_date():
    span = Window(EARLIEST, LATEST, ("2016-11-01", "2016-11-02", "2016-11-29", "2016-11-30"))
    counts = per_period(read(stored(FAR_ZONES), split(span).keys(["cam-a"]), "label"), 90)
    ends = unsettled_ends(counts, [])
    assert months_to_open(ends) == {("cam-a", "2016-11")}
    ends = end_days(ends, per_period(read(stored(FAR_ZONES), [
        tally_key("day", "cam-a", day) for day in days_of("2016-11")], "label"), 90))
    assert ends == {"cam-a": ("2016-11-01", "2016-11-30")}
    found = sightings(in_window(FAR_ZONES, EARLIEST, LATEST, end_dates(ends)), 90)
    assert sightings_rows(counts, [], found) == [
        {"camera": "cam-a", "images": 4, "first_ts": FAR_ZONES[1]["timestamp"],
         "last_ts": FAR_ZONES[2]["timestamp"]}]


def test_all_time_reads_whole_months_and_dates_that_are_no_dates_from_images():
    span = Window(EARLIEST, LATEST, ("2016-11-30", "2016-12-01", "+10000-01-01"))
    parts = split(span)
    assert (parts.months, parts.days, parts.edges) == (("2016-11", "2016-12"), (),
                                                       ("+10000-01-01",))
    assert split(span, by_day=True).days == ("2016-11-30", "2016-12-01")


def test_a_month_is_whole_only_when_every_date_of_it_lies_inside():
    # A capture filed under a local date falls within a day of it either side, in UTC: 31
    # Oct and 1 Dec lie inside [30 Oct, 3 Dec), 2 Dec straddles the end, so December is
    # not whole.
    since = int(datetime(2016, 10, 30, tzinfo=UTC).timestamp())
    until = int(datetime(2016, 12, 3, tzinfo=UTC).timestamp())
    parts = split(window(since, until))
    assert parts.months == ("2016-11",)
    assert parts.days == ("2016-10-31", "2016-12-01")
    assert parts.edges == ("2016-10-29", "2016-10-30", "2016-12-02", "2016-12-03")
    assert split(window(since, until + 1)).edges[-2:] == ("2016-12-03", "2016-12-04")


def test_calendar_days_stop_at_the_calendars_end():
    assert calendar_days("9999-12-30", 1, 2) == ["9999-12-29", "9999-12-30", "9999-12-31"]
    assert days_of("2016-02")[-1] == "2016-02-29"
