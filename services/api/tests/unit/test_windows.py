"""Windows over camera-local dates and the newest-first walk across them, against a sort."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from labelgraph_api.windows import (
    EARLIEST,
    LATEST,
    needs_known_dates,
    newest_first,
    settled_from,
    window,
)

START = datetime(2016, 10, 30, tzinfo=UTC)


def images(count: int, seed: int) -> list[dict[str, object]]:
    """Images over ten days from cameras in every zone from UTC-12 to UTC+14."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        moment = START + timedelta(seconds=rng.randrange(10 * 86_400))
        zone = timezone(timedelta(hours=rng.randint(-12, 14)))
        rows.append({"object_key": f"k{index:04d}", "timestamp": int(moment.timestamp()),
                     "iso_date": moment.astimezone(zone).date().isoformat()})
    # Two in the same second: the key breaks the tie.
    rows.append({**rows[0], "object_key": "k9999"})
    return rows


def fetcher(rows, since, until, after=(LATEST, ""), limit=10):
    """What a statement over some dates answers: their newest `limit` rows after the cursor."""
    calls = []

    async def fetch(dates: list[str]) -> list[dict[str, object]]:
        calls.append(dates)
        chosen = [row for row in rows if row["iso_date"] in dates
                  and since <= row["timestamp"] < until
                  and (row["timestamp"], row["object_key"]) < after]
        return sorted(chosen, key=lambda r: (r["timestamp"], r["object_key"]),
                      reverse=True)[:limit]
    return fetch, calls


def expected(rows, since, until, after, limit):
    chosen = [row for row in rows if since <= row["timestamp"] < until
              and (row["timestamp"], row["object_key"]) < after]
    return sorted(chosen, key=lambda r: (r["timestamp"], r["object_key"]), reverse=True)[:limit]


@pytest.mark.parametrize("limit", [17, 45, 90])
@pytest.mark.parametrize("seed", range(6))
def test_every_page_of_the_walk_equals_a_full_sort(seed, limit):
    rows = images(400, seed)
    rng = random.Random(seed)
    since = int((START + timedelta(hours=rng.randrange(48))).timestamp())
    until = int((START + timedelta(days=8, hours=rng.randrange(48))).timestamp())
    span = window(since, until)
    after, pages = (LATEST, ""), 0
    while True:
        reach = span.before(after[0]) if after[0] != LATEST else span
        fetch, _ = fetcher(rows, since, until, after, limit=limit)
        page = asyncio.run(newest_first(fetch, reach.dates, limit))
        assert page == expected(rows, since, until, after, limit)
        if len(page) < limit:
            break
        after, pages = (page[-1]["timestamp"], page[-1]["object_key"]), pages + 1
    assert pages >= 2


def test_a_full_first_page_reads_only_the_newest_dates():
    rows = images(2_000, 1)
    span = window(int(START.timestamp()), int((START + timedelta(days=10)).timestamp()))
    fetch, calls = fetcher(rows, span.since, span.until)
    asyncio.run(newest_first(fetch, span.dates, 10))
    assert len(calls) == 1 and len(calls[0]) == 3


def test_out_of_fetches_says_so_instead_of_walking_on():
    rows = images(50, 2)
    span = window(int(START.timestamp()), int((START + timedelta(days=10)).timestamp()))
    fetch, calls = fetcher(rows, span.since, span.until, limit=500)
    assert asyncio.run(newest_first(fetch, span.dates, 500, max_fetches=2)) is None
    assert len(calls) == 2


def test_a_window_covers_the_local_dates_a_day_wider_than_its_utc_dates():
    since = int(datetime(2016, 11, 5, 3, tzinfo=UTC).timestamp())
    until = int(datetime(2016, 11, 6, 0, tzinfo=UTC).timestamp())  # exclusive: the 5th ends it
    assert window(since, until).dates == ("2016-11-04", "2016-11-05", "2016-11-06")
    assert settled_from("2016-11-05") == int(datetime(2016, 11, 6, tzinfo=UTC).timestamp())


def test_open_long_and_extreme_windows_take_their_dates_from_the_graph():
    known = ["2016-01-01", "2016-11-05", "2017-03-01"]
    assert needs_known_dates(None, 10) and needs_known_dates(10, None)
    assert needs_known_dates(0, 500 * 86_400)
    assert not needs_known_dates(0, 30 * 86_400)
    assert needs_known_dates(-62_135_596_800, 0)  # year 1: a day earlier is no date
    open_start = window(None, int(datetime(2016, 12, 1, tzinfo=UTC).timestamp()), known)
    assert open_start.dates == ("2016-01-01", "2016-11-05")
    assert open_start.since == EARLIEST and window(None, None, known).dates == tuple(known)
    assert window(5, 5, known).dates == ()
