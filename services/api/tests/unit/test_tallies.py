"""Reading tallies: hand-built cells decode as the graph-writer's format says; months and
all time split between thin tallies and unfolded days answer what their days answer; and a
window split between tallies and its end dates' images answers what the images alone
answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from labelgraph_api import queries
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_api.tallies import (
    BUCKETS,
    Cell,
    Split,
    add_histograms,
    add_rollups,
    calendar_days,
    camera_hour,
    capture_bounds,
    cells,
    cut_to_hours,
    day_key,
    days_of,
    end_dates,
    end_days,
    end_hours,
    histogram_rows,
    hours_by_place,
    images_counted,
    is_date,
    month_ends,
    negated,
    netted,
    per_period,
    registry_key,
    rollup_rows,
    settled_by_hours,
    shard_of,
    sharpen,
    sightings_rows,
    split,
    tally_property,
    thin_keys,
    unsettled_ends,
)
from labelgraph_api.windows import EARLIEST, LATEST, Window, window

START = datetime(2016, 10, 20, tzinfo=UTC)
CONFIDENCES = (0.0, 12.5, 49.5, 89.0, 89.999, 90.0, 99.99, 100.0)
CAMERAS = ("cam-a", "cam-b")


def test_keys_and_property_names_are_the_writers():
    assert day_key('cam "1"', "2016-11-30") == '["day","cam \\"1\\"","2016-11-30"]'
    assert shard_of("l_abcdef12") == 0xabcdef % 64 == 47
    assert thin_keys(["c"], ["2016-11"], "l_abcdef12") == ['["month","c","2016-11",47]']
    assert thin_keys(["c", "d"], None, "i_000003") == ['["total","c",null,3]',
                                                   '["total","d",null,3]']
    assert registry_key("c") == '["unfolded","c"]'
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


IMAGES, LABEL = tally_property(None, None), tally_property(None, "L")
Nodes = dict[str, dict[str, Any]]
Folded = Callable[[str, str], bool]


def every_day(camera: str, day: str) -> bool:
    return True


def some_days(seed: int) -> Folded:
    """About two days in three folded, the others still in their camera's registry."""
    return lambda camera, day: random.Random(f"{seed}/{camera}/{day}").random() < 0.66


def stored(all_images, folded: Folded = every_day) -> Nodes:
    """The tally nodes of format 3 the graph-writer keeps for these images (one view, one
    label): a node per camera and day, thin nodes per month and all time summing the folded
    days, each camera's registry of the others."""
    days: dict[tuple[str, str], dict[tuple[int, int | None], int]] = {}
    offsets: dict[tuple[str, str], list[int]] = {}
    for image in all_images:
        isodate = str(image["isodate"])
        counts = days.setdefault((str(image["camera"]), isodate[:10]), {})
        held = offsets.setdefault((str(image["camera"]), isodate[:10]), [])
        offset = datetime.fromisoformat(isodate).utcoffset()
        assert offset is not None
        held[:] = sorted({*held, int(offset.total_seconds()) // 60})
        hour = int(isodate[11:13])
        counts[(hour, None)] = counts.get((hour, None), 0) + 1
        if image["confidence"] is not None:
            bucket = min(100, max(0, math.floor(float(image["confidence"]))))
            counts[(hour, bucket)] = counts.get((hour, bucket), 0) + 1
    nodes: Nodes = {}
    thin: dict[tuple[str, str, str | None], dict[tuple[int, int | None], int]] = {}
    for (camera, day), counts in sorted(days.items()):
        nodes[day_key(camera, day)] = {"level": "day", "camera": camera, "period": day,
                                       "utc_offsets": offsets[(camera, day)], **encoded(counts)}
        if not folded(camera, day):
            registry = nodes.setdefault(registry_key(camera), {
                "level": "unfolded", "camera": camera, "dates": []})
            registry["dates"].insert(0, day)  # the registry keeps no order
            continue
        for period in (day[:7], None):
            held = thin.setdefault((camera, "month" if period else "total", period), {})
            for cell, count in counts.items():
                held[cell] = held.get(cell, 0) + count
    for (camera, level, period), counts in thin.items():
        for name, value in encoded(counts).items():
            key = thin_keys([camera], None if period is None else [period], name)[0]
            shard = nodes.setdefault(key, {"level": level, "camera": camera, "period": period})
            shard[name] = value
    return nodes


def encoded(counts: dict[tuple[int, int | None], int]) -> dict[str, list[int]]:
    """The stored properties of some counts: absent where they count nothing."""
    labelled = sorted((hour * BUCKETS + bucket, count)
                      for (hour, bucket), count in counts.items() if bucket is not None)
    properties = {IMAGES: [counts.get((hour, None), 0) for hour in range(24)]}
    if labelled:
        properties[LABEL] = [value for pair in labelled for value in pair]
    return properties


class FakeSession:
    """Answers the tally statements as the graph does from hand-built nodes, and keeps the
    keys each was asked."""

    def __init__(self, nodes: Nodes, cameras=CAMERAS, version: int = 3) -> None:
        self.nodes, self.cameras, self.version = nodes, cameras, version
        self.asked: list[tuple[str, list[str]]] = []

    async def rows(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        if query == queries.TALLY_STATE:
            return [{"complete": True, "version": self.version}]
        if query == queries.CAMERAS:
            return [{"camera": camera} for camera in self.cameras]
        self.asked.append((query, parameters["keys"]))
        found = [self.nodes[key] for key in parameters["keys"] if key in self.nodes]
        if query == queries.TALLY_THIN:
            return [{"level": node["level"], "camera": node["camera"],
                     "period": node.get("period"), "cells": node.get(parameters["property"]),
                     "dates": node.get("dates")} for node in found]
        assert query == queries.TALLY_CELLS
        return read_nodes(found, parameters["property"])


def read_nodes(found, prop):
    """What the day tally statement returns of these nodes: each with the property's cells
    (None where it counts nothing) and its UTC offsets."""
    return [{"camera": node["camera"], "period": node["period"], "cells": node.get(prop),
             "offsets": node.get("utc_offsets")} for node in found]


def tallied(nodes: Nodes, parts: Split, label: str | None, whole_history: bool = False,
            session: FakeSession | None = None) -> list[dict[str, Any]]:
    """The rows the api's reads add up over the split's tallied part (or all time)."""
    reads = CypherReads(session or FakeSession(nodes))  # type: ignore[arg-type]
    return asyncio.run(reads._tallies(parts, None, None, label, whole_history))


def read(nodes: Nodes, keys, prop):
    """What the day tally statement returns for those keys: the nodes holding the property."""
    return [{"camera": nodes[key]["camera"], "period": nodes[key]["period"],
             "cells": nodes[key][prop]} for key in keys if key in nodes and prop in nodes[key]]


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
    nodes = stored(all_images, some_days(seed))
    for span in windows(seed):
        for by_day in (False, True):
            parts = split(span, by_day)
            covered = parts.edges + parts.days + tuple(
                day for day in span.dates if day[:7] in parts.months)
            assert sorted(covered) == list(span.dates), "each date read once"
            labels = tallied(nodes, parts, "L")
            edges = in_window(all_images, span.since, span.until, parts.edges)
            every = in_window(all_images, span.since, span.until)
            for width, threshold in ((None, 90.0), (5.0, 89.0), (1.0, 100.0), (10.0, 0.0)):
                assert add_histograms(histogram_rows(labels, width, threshold),
                                      histogram(edges, width, threshold)
                                      ) == histogram(every, width, threshold)
            counted = images_counted(tallied(nodes, parts, None))
            assert counted + len(edges) == len(every)
            for parts_asked in (["camera", "month", "year"], ["hour"],
                                ["camera", "day", "hour", "month", "year"]):
                if "day" in parts_asked and not by_day:
                    continue
                for labelled, at in ((False, 0), (True, 90), (True, 0), (True, 100)):
                    named = "L" if labelled else None
                    rows = rollup_rows(tallied(nodes, parts, named), parts_asked, named, at)
                    assert sorted(add_rollups(rows, rollup(edges, parts_asked, labelled, at)),
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
    nodes = stored(all_images, some_days(seed))
    all_dates = tuple(sorted({str(image["isodate"])[:10] for image in all_images}))
    for span in (*windows(seed), Window(EARLIEST, LATEST, all_dates)):
        parts = split(span)
        for at in (0, 90, 100):
            read_at_ends = in_window(all_images, span.since, span.until, parts.edges)
            answer, _ = answered_sightings(all_images, nodes, span, parts,
                                           tallied(nodes, parts, "L"), read_at_ends, at)
            assert answer == expected_sightings(all_images, span, at)


def answered_sightings(all_images, nodes, span, parts, labels, read_at_ends, at):
    """The api's sightings from a label's tallied rows and the images read at the ends:
    the rows, and the dates whose images it read for first and last captures (the days of
    the months that may hold them read whole, where the api walks them from their end)."""
    counts = per_period(labels, at)
    edges = sightings(read_at_ends, at)
    days = [row for row in labels if is_date(row["period"])] + read(nodes, [
        day_key(camera, day) for (month, _), cameras in sorted(month_ends(counts, parts).items())
        for camera in sorted(cameras) for day in parts.tallied(month)], LABEL)
    ends = unsettled_ends(counts, edges, capture_bounds(days, at))
    ends = end_days(ends, per_period(days, at))
    found = sightings(in_window(all_images, span.since, span.until, end_dates(ends)), at)
    found = [row for row in found if row["camera"] in ends]
    return sightings_rows(counts, edges, found), end_dates(ends)


def expected_sightings(all_images, span, at):
    return sorted(sightings(in_window(all_images, span.since, span.until), at),
                  key=lambda row: (-row["images"], row["camera"]))


def test_far_zones_hold_each_end_on_another_date():
    span = Window(EARLIEST, LATEST, ("2016-11-01", "2016-11-02", "2016-11-29", "2016-11-30"))
    labels = tallied(stored(FAR_ZONES), split(span), "L")
    counts = per_period(labels, 90)
    ends = unsettled_ends(counts, [], capture_bounds(labels, 90))
    assert month_ends(counts, split(span)) == {("2016-11", True): {"cam-a"},
                                               ("2016-11", False): {"cam-a"}}
    ends = end_days(ends, per_period(read(stored(FAR_ZONES), [
        day_key("cam-a", day) for day in days_of("2016-11")], LABEL), 90))
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


def as_days(all_images, chosen: Callable[[str], bool]) -> list[dict[str, Any]]:
    """Every chosen day's node as the day statement returns it, whatever was folded."""
    nodes = stored(all_images)
    return [{"camera": node["camera"], "period": node["period"], "cells": node.get(LABEL)}
            for node in nodes.values() if node["level"] == "day" and chosen(node["period"])]


@pytest.mark.parametrize("folded", [every_day, some_days(1), some_days(2),
                                    lambda camera, day: False])
def test_months_and_all_time_from_thin_tallies_and_unfolded_days_answer_as_their_days(folded):
    all_images = images(1_200, 5)
    nodes = stored(all_images, folded)
    months = tuple(sorted({str(image["isodate"])[:7] for image in all_images}))
    for asked, whole_history in ((months[1:3], False), ((), True)):
        rows = tallied(nodes, Split(asked, (), ()), "L", whole_history)
        days = as_days(all_images, lambda day, asked=asked, every=whole_history:
                       every or day[:7] in asked)
        for width, threshold in ((None, 90.0), (10.0, 0.0)):
            assert histogram_rows(rows, width, threshold) == histogram_rows(days, width,
                                                                            threshold)
        for parts_asked in (["camera"], ["camera", "hour"], ["hour"]):
            assert (sorted(rollup_rows(rows, parts_asked, "L", 90), key=repr)
                    == sorted(rollup_rows(days, parts_asked, "L", 90), key=repr))
        if not whole_history:
            assert per_period(rows, 0) == {
                (camera, period[:7]): count
                for (camera, period), count in _per_month(per_period(days, 0)).items()}


def _per_month(counts):
    months: dict[tuple[str, str], int] = {}
    for (camera, day), count in counts.items():
        months[(camera, day[:7])] = months.get((camera, day[:7]), 0) + count
    return months


def test_each_cameras_registry_is_read_once_with_the_thin_tallies():
    all_images = images(300, 6)
    session = FakeSession(stored(all_images, some_days(6)))
    tallied({}, Split(("2016-11", "2016-12"), ("2017-01-02",), ()), "L", session=session)
    thin, days = session.asked
    assert thin[0] == queries.TALLY_THIN
    assert [key for key in thin[1] if "unfolded" in key] == [registry_key(c) for c in CAMERAS]
    unfolded = [day_key(node["camera"], day) for node in session.nodes.values()
                if node["level"] == "unfolded" for day in node["dates"]
                if day[:7] in ("2016-11", "2016-12")]
    assert unfolded, "some days of those months are not folded"
    assert days[0] == queries.TALLY_CELLS
    assert sorted(days[1]) == sorted([day_key(c, "2017-01-02") for c in CAMERAS] + unfolded)


def test_all_time_by_hour_reads_the_totals_not_the_months():
    all_images = images(300, 7)
    session = FakeSession(stored(all_images, some_days(7)))
    rows = tallied({}, Split((), (), ()), None, whole_history=True, session=session)
    assert {json.loads(key)[0] for key in session.asked[0][1]} == {"total", "unfolded"}
    assert images_counted(rows) == len(all_images)
    assert {row["period"] for row in rows} == {None}
    assert sum(row["images"] for row in rollup_rows(rows, ["hour"], None, 0)) == len(all_images)


def test_tallies_of_another_format_are_not_read():
    for version, read_them in ((2, False), (3, True)):
        reads = CypherReads(FakeSession({}, version=version))  # type: ignore[arg-type]
        assert asyncio.run(reads._tallies_complete()) is read_them


def pacific(count: int, seed: int) -> list[dict[str, object]]:
    """Images of cam-a in Los Angeles (UTC-7 until 2016-11-06 09:00 UTC, then UTC-8: that
    date holds both offsets, and 01:00-02:00 twice)."""
    rng = random.Random(seed)
    switch = datetime(2016, 11, 6, 9, tzinfo=UTC)
    made = []
    for _ in range(count):
        moment = switch + timedelta(seconds=rng.randrange(-40 * 86_400, 60 * 86_400))
        local = moment.astimezone(timezone(timedelta(hours=-7 if moment < switch else -8)))
        made.append({"camera": "cam-a", "timestamp": int(moment.timestamp()),
                     "isodate": local.isoformat(),
                     "confidence": rng.choice((None, *CONFIDENCES))})
    return made


def older_days(nodes: Nodes, seed: int) -> Nodes:
    """About one day node in four left as written before offsets (none held)."""
    rng = random.Random(seed)
    for key in sorted(nodes):
        if nodes[key]["level"] == "day" and rng.random() < 0.25:
            del nodes[key]["utc_offsets"]
    return nodes


def at_the_ends(all_images, span: Window, parts: Split):
    """The images the end statements read: the window's on the whole dates, and on each
    camera's straddling hours."""
    return [image for image in in_window(all_images, span.since, span.until)
            if str(image["isodate"])[:10] in parts.edges
            or camera_hour(str(image["camera"]), str(image["isodate"])[:10],
                           int(str(image["isodate"])[11:13])) in parts.hours]


def dst_windows(seed):
    """Windows starting and ending mid-hour, one on the date the clocks went back."""
    rng = random.Random(seed)
    yield window(int(datetime(2016, 11, 6, 9, 20, tzinfo=UTC).timestamp()),
                 int(datetime(2016, 12, 18, 17, 45, 30, tzinfo=UTC).timestamp()))
    for _ in range(4):
        since = int((START + timedelta(seconds=rng.randrange(40 * 86_400))).timestamp())
        yield window(since, since + rng.randrange(2 * 86_400, 70 * 86_400))


@pytest.mark.parametrize("seed", range(4))
def test_end_hours_inside_from_the_day_tallies_and_straddling_ones_from_images(seed):
    all_images = images(800, seed) + pacific(800, seed)
    nodes = older_days(stored(all_images, some_days(seed)), seed)
    for span in dst_windows(seed):
        for by_day in (False, True):
            parts = split(span, by_day)
            ends = [nodes[day_key(camera, day)] for camera in CAMERAS for day in parts.edges
                    if day_key(camera, day) in nodes]
            every = in_window(all_images, span.since, span.until)
            for named in (None, "L"):
                prop = IMAGES if named is None else LABEL
                sharper, end_cells = sharpen(parts, span, read_nodes(ends, prop),
                                             of_label=named is not None)
                assert sharper.days == parts.days and sharper.months == parts.months
                tallies = tallied(nodes, parts, named) + end_cells
                read = at_the_ends(all_images, span, sharper)
                if named is None:
                    assert images_counted(tallies) + len(read) == len(every)
                for width, threshold in ((None, 90.0), (10.0, 0.0)) if named else ():
                    assert add_histograms(histogram_rows(tallies, width, threshold),
                                          histogram(read, width, threshold)
                                          ) == histogram(every, width, threshold)
                asked = ["camera", "day", "hour", "month", "year"] if by_day else ["hour"]
                for at in (0, 90):
                    rows = rollup_rows(tallies, asked, named, at)
                    assert sorted(add_rollups(rows, rollup(read, asked, named is not None, at)),
                                  key=repr) == rollup(every, asked, named is not None, at)


def test_cam_a_in_one_zone_reads_a_few_hours_at_each_end_not_three_dates():
    all_images = pacific(2_000, 1)
    nodes = stored(all_images)
    span = window(int(datetime(2016, 11, 6, 9, 20, tzinfo=UTC).timestamp()),
                  int(datetime(2016, 12, 18, 17, 45, 30, tzinfo=UTC).timestamp()))
    parts = split(span)
    ends = [nodes[day_key("cam-a", day)] for day in parts.edges
            if day_key("cam-a", day) in nodes]
    sharper, _ = sharpen(parts, span, read_nodes(ends, IMAGES), of_label=False)
    # 09:20 UTC is 01:20 at -08:00 on the 6th (01:xx at -07:00 was 08:xx UTC): hours 1
    # and 2 may hold captures on each side; 17:45:30 UTC is 09:45:30 at -08:00.
    assert (sharper.edges, sharper.hours) == ((), (
        camera_hour("cam-a", "2016-11-06", 1), camera_hour("cam-a", "2016-11-06", 2),
        camera_hour("cam-a", "2016-12-18", 9)))


def test_hours_by_place_follow_the_least_and_greatest_offset():
    midnight = int(datetime(2016, 11, 6, tzinfo=UTC).timestamp())
    since = midnight + 9 * 3_600 + 20 * 60  # 09:20 UTC
    span = Window(since, since + 40 * 86_400, ())
    inside, straddle = hours_by_place("2016-11-06", (-480 * 60, -420 * 60), span)
    # hour h holds captures in [h + 7 h, h + 1 + 8 h) UTC: hour 0 ends at 09:00, outside.
    assert (sorted(inside), straddle) == (list(range(3, 24)), [1, 2])
    inside, straddle = hours_by_place("2016-11-06", (-480 * 60, -480 * 60), span)
    assert (sorted(inside), straddle) == (list(range(2, 24)), [1])
    until = Window(midnight - 86_400, midnight + 10 * 3_600, ())  # to 10:00 UTC
    inside, straddle = hours_by_place("2016-11-06", (330 * 60, 330 * 60), until)
    # at +05:30 hour h is [h - 5.5 h, h + 1 - 5.5 h): hours 0-14 end by 09:30, 15 straddles.
    assert (sorted(inside), straddle) == (list(range(15)), [15])


def test_a_node_without_offsets_is_read_from_images_and_a_camera_without_one_not_at_all():
    span = window(int(datetime(2016, 11, 6, 9, 20, tzinfo=UTC).timestamp()),
                  int(datetime(2016, 12, 18, tzinfo=UTC).timestamp()))
    parts = split(span)
    assert "2016-11-06" in parts.edges
    nodes = [{"camera": "old", "period": "2016-11-06", "cells": [1] * 24, "offsets": None},
             {"camera": "odd", "period": "2016-11-06", "cells": [1] * 24, "offsets": ["x"]},
             {"camera": "new", "period": "2016-11-06", "cells": [1] * 24, "offsets": [0]}]
    sharper, rows = sharpen(parts, span, nodes, of_label=False)
    for camera in ("old", "odd"):
        assert {hour for hour in sharper.hours if hour.endswith(camera)} == {
            camera_hour(camera, "2016-11-06", hour) for hour in range(24)}
    assert [hour for hour in sharper.hours if hour.endswith("new")] == [
        camera_hour("new", "2016-11-06", 9)]
    assert rows == [{**nodes[2], "cells": [0] * 10 + [1] * 14}]
    assert sharper.edges == ()


def test_cells_cut_to_hours_keep_their_stored_form():
    assert cut_to_hours([1, 2, 3] + [0] * 21, {1, 2}, of_label=False) == [0, 2, 3] + [0] * 21
    labelled = [1 * BUCKETS + 90, 2, 5 * BUCKETS + 100, 1, 5 * BUCKETS, 4]
    assert cut_to_hours(labelled, {5}, of_label=True) == [5 * BUCKETS + 100, 1, 5 * BUCKETS, 4]


@pytest.mark.parametrize("seed", range(4))
def test_sightings_over_sharpened_ends_answer_as_the_images(seed):
    all_images = images(600, seed) + pacific(800, seed) + FAR_ZONES
    nodes = older_days(stored(all_images, some_days(seed)), seed)
    for span in dst_windows(seed):
        parts = split(span)
        ends = [nodes[day_key(camera, day)] for camera in CAMERAS for day in parts.edges
                if day_key(camera, day) in nodes]
        sharper, end_cells = sharpen(parts, span, read_nodes(ends, LABEL), of_label=True)
        for at in (0, 90, 100):
            answer, _ = answered_sightings(all_images, nodes, span, sharper,
                                           tallied(nodes, parts, "L") + end_cells,
                                           at_the_ends(all_images, span, sharper), at)
            assert answer == expected_sightings(all_images, span, at)


def test_a_busy_camera_s_first_and_last_capture_come_from_its_end_hours_alone():
    # Its straddling hours hold captures before (after) any its tallied hours can hold:
    # no date is read for them (before offsets, three dates at each end were).
    all_images = pacific(20_000, 2)  # about ten an hour
    nodes = stored(all_images)
    span = next(dst_windows(0))
    parts = split(span)
    ends = [nodes[day_key("cam-a", day)] for day in parts.edges
            if day_key("cam-a", day) in nodes]
    sharper, end_cells = sharpen(parts, span, read_nodes(ends, LABEL), of_label=True)
    answer, dates_read = answered_sightings(all_images, nodes, span, parts,
                                            tallied(nodes, parts, "L") + end_cells,
                                            at_the_ends(all_images, span, sharper), 0)
    assert answer == expected_sightings(all_images, span, 0)
    assert dates_read == []


def test_the_hours_that_can_hold_a_camera_s_first_and_last_capture():
    def day(camera, date, offsets, *hours, bucket=95):
        return {"camera": camera, "period": date, "offsets": offsets,
                "cells": [number for hour in hours for number in (hour * BUCKETS + bucket, 1)]}

    pacific = [day("a,b", "2016-11-05", [-420], 7, 22),  # a comma in a name is just a name
               day("a,b", "2016-11-07", [-480], 3),
               day("a,b", "2016-11-06", [-480, -420], 1, 2, 5, bucket=10)]
    assert end_hours(pacific, 90) == {"a,b": (
        frozenset({camera_hour("a,b", "2016-11-05", 7)}),
        frozenset({camera_hour("a,b", "2016-11-07", 3)}))}
    # On the day the clocks went back, 01:00-02:00 at -07:00 comes before 01:xx at -08:00:
    # either hour 1 or 2 can hold the first capture.
    assert end_hours(pacific, 0)["a,b"][0] == frozenset(
        {camera_hour("a,b", "2016-11-05", 7)})
    assert end_hours(pacific[2:], 0) == {"a,b": (
        frozenset({camera_hour("a,b", "2016-11-06", 1), camera_hour("a,b", "2016-11-06", 2)}),
        frozenset({camera_hour("a,b", "2016-11-06", 5)}))}
    # A month, or a day without offsets, can hold the first capture: not told by hours.
    month = {"camera": "a,b", "period": "2016-10", "cells": [5 * BUCKETS + 95, 1]}
    older = {**day("a,b", "2016-11-08", None, 23)}
    assert end_hours([*pacific, month, older], 90) == {"a,b": (None, None)}
    ends, hours = settled_by_hours({"a,b": ("2016-11-05", "2016-11-07"), "c": (None, "x")},
                                   end_hours(pacific, 90))
    assert ends == {"c": (None, "x")}
    assert hours == sorted([camera_hour("a,b", "2016-11-05", 7),
                            camera_hour("a,b", "2016-11-07", 3)])


def test_a_month_mostly_inside_the_window_is_read_as_its_shard_less_its_other_days():
    march = [f"2017-03-{day:02d}" for day in range(3, 31)]  # 28 whole days of 31
    february = [f"2017-02-{day:02d}" for day in range(20, 29)]  # 9 of 28
    parts = netted(Split((), (*february, *march), ("2017-03-01", "2017-03-31")))
    assert parts.netted == ("2017-03",)
    assert parts.outside("2017-03") == ["2017-03-01", "2017-03-02", "2017-03-31"]
    assert parts.day_keys(["a"]) == [day_key("a", day) for day in february]
    assert negated([0, 3, 1], of_label=False) == [0, -3, -1]
    assert negated([202, 4, 303, 1], of_label=True) == [202, -4, 303, -1]
