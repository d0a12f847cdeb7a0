"""The graph's reads: each question picks its statement's anchor and bounds, then runs it.

The anchor is a plan, so it is chosen here beside the statements, from what the question
asks (the handlers only ask): the window's dates of
the time tree for a short window, one label's edges over a long one (windows.py says which
is short). Paging walks the dates back from the cursor, so page 1,000 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labelgraph_api import queries
from labelgraph_api.adapters.graph import GraphSession
from labelgraph_api.domain import DISAGREEMENT, UNLABELLED, local_hour, stored_boxes
from labelgraph_api.newest_hours import counts_by_hour, newest_hours, without
from labelgraph_api.tallies import (
    SEVERAL_DETECTORS,
    TALLY_VERSION,
    UNFOLDED,
    Counts,
    Split,
    add_histograms,
    add_rollups,
    capture_bounds,
    dates_counted,
    day_key,
    end_dates,
    end_days,
    end_hours,
    filed_under_thin,
    histogram_rows,
    images_counted,
    integral,
    is_date,
    month_ends,
    negated,
    netted,
    per_period,
    registry_key,
    rollup_rows,
    settled_by_hours,
    sharpen,
    sightings_rows,
    split,
    tally_property,
    thin_keys,
    unfolded_days,
    unsettled_ends,
)
from labelgraph_api.windows import (
    CHUNK_DATES_MAX,
    DAY_SECONDS,
    DETECTOR_SCAN_IMAGES,
    EARLIEST,
    FIRST_CHUNK_DATES,
    LATEST,
    Window,
    dates_around,
    needs_known_dates,
    newest_first,
    settled_from,
    window,
)

Row = dict[str, Any]
# Date chunks a label search tries before it starts from its rarest label instead.
LABEL_SEARCH_DATE_FETCHES = 2
NO_CURSOR = {"after_ts": LATEST, "after_key": ""}


class CypherReads:
    """The graph's answers to the api's questions: each picks its anchor, then runs it."""

    def __init__(self, session: GraphSession) -> None:
        self._session = session

    async def ping(self) -> None:
        await self._session.ping()

    async def _rows(self, query: str, **parameters: Any) -> list[Row]:
        return await self._session.rows(query, **parameters)

    async def _collected(self, query: str, **parameters: Any) -> list[Any]:
        """What a statement returns as one list (`collected`): its rows, without a row's cost."""
        rows = await self._rows(query, **parameters)
        return list(rows[0]["collected"] or []) if rows else []

    async def _dates(self) -> list[str]:
        """Every camera-local date the time tree holds (a few hundred a year), in no order."""
        return await self._collected(queries.DATES)

    async def _images(self, query: str, **parameters: Any) -> list[Row]:
        """Image items of one of the paging statements, labels sorted, nulls dropped."""
        return _clean(await self._rows(query, **parameters))

    async def image(self, object_key: str) -> Row | None:
        """One image with its labels and reviewers' verdicts; None if the graph has none."""
        rows = await self._images(queries.IMAGE, object_key=object_key, detector=None)
        if not rows:
            return None
        # OPTIONAL MATCH with no review collects one all-null map, as for labels.
        reviews = [review for review in rows[0]["reviews"] if review["label"] is not None]
        return {**rows[0], "reviews": sorted(reviews, key=lambda review: review["label"])}

    async def labels(self, prefix: str | None, offset: int, limit: int) -> list[Row]:
        """Labels with their image counts, most frequent first."""
        return await self._rows(queries.LABELS, prefix=prefix, offset=offset, limit=limit)

    async def window_of(self, since: int | None, until: int | None) -> Window:
        """The window with its dates: listed from the calendar, or from the graph when open."""
        known = await self._dates() if needs_known_dates(since, until) else None
        return window(since, until, known)

    async def sightings(self, span: Window, **scope: Any) -> list[Row]:
        """Images with a label at or above a confidence, per camera: over a long window the
        whole days inside it from the tallies (for an integer confidence)."""
        parts = await self._tally_split(span, scope["min_confidence"])
        if parts is not None:
            return await self._sightings_from_tallies(span, parts, **scope)
        if span.short:
            return await self._rows(queries.SIGHTINGS_ON_DATES, dates=list(span.dates),
                                    **span.bounds, **scope)
        return await self._rows(queries.SIGHTINGS_OF_LABEL, **span.bounds, **scope)

    async def latest_captures(self, rows: Sequence[Row]) -> dict[str, str]:
        """Each sightings row's latest capture as its camera stamped it: camera -> ISO text."""
        wanted = {(row["camera"], row["last_ts"]) for row in rows if row["last_ts"] is not None}
        if not wanted:
            return {}
        dates = sorted({day for _, ts in wanted for day in dates_around(ts)})
        found = await self._rows(queries.CAPTURES_ON_DATES, dates=dates,
                                 timestamps=sorted({ts for _, ts in wanted}),
                                 cameras=sorted({camera for camera, _ in wanted}))
        return {row["camera"]: row["captured_at"] for row in found
                if (row["camera"], row["timestamp"]) in wanted}

    async def confidence_histogram(self, span: Window, **scope: Any) -> list[Row]:
        """Images per confidence bucket of a label: over a long window the whole days inside
        it from the tallies when integer buckets answer exactly (an integer width and
        threshold), the hours straddling its ends from the images."""
        parts = await self._tally_split(span, scope["width"], scope["threshold"])
        if parts is not None:
            parts, tallies = await self._tallied(netted(parts), span, scope["cameras"],
                                                 scope["detector"], scope["label"],
                                                 _whole_history(span, parts))
            return add_histograms(
                histogram_rows(tallies, scope["width"], scope["threshold"]),
                await self._on_edges(queries.HISTOGRAM_ON_EDGES, parts, span, **scope))
        if span.short:
            return await self._rows(queries.HISTOGRAM_ON_DATES, dates=list(span.dates),
                                    **span.bounds, **scope)
        return await self._rows(queries.HISTOGRAM_OF_LABEL, **span.bounds, **scope)

    async def images_in_scope(self, span: Window, cameras: Sequence[str] | None,
                              detector: str | None) -> int:
        """How many images the window holds (on those cameras; with a detector, it labelled).

        Over a long window the whole days and hours inside it from the tallies and the hours
        straddling its ends from the images; without tallies, over all time and every
        detector, the cameras' degree counts; otherwise it reads the window's images (not
        their labels)."""
        parts = await self._tally_split(span)
        if parts is not None:
            parts, tallies = await self._tallied(netted(parts), span, cameras, detector, None,
                                                 _whole_history(span, parts))
            edges = await self._on_edges(queries.IMAGE_COUNT_ON_EDGES, parts, span,
                                         cameras=cameras, detector=detector)
            return images_counted(tallies) + sum(row["images"] for row in edges)
        if _all_time(span) and detector is None:
            counts = await self._rows(queries.CAMERA_IMAGES)
            return sum(row["images"] for row in counts
                       if cameras is None or row["camera"] in cameras)
        rows = await self._rows(queries.IMAGE_COUNT_ON_DATES, dates=list(span.dates),
                                **span.bounds, cameras=cameras, detector=detector)
        return sum(row["images"] for row in rows)

    async def label_named(self, name: str) -> str | None:
        """The label as the graph spells it, matched in any case; None if it has none."""
        for query in (queries.LABEL_NAMED, queries.LABEL_NAMED_ANY_CASE):
            rows = await self._rows(query, label=name)
            if rows:
                return str(rows[0]["label"])
        return None

    async def cameras_named(self, names: Sequence[str]) -> set[str]:
        """Those of the names that are cameras of the graph."""
        rows = await self._rows(queries.CAMERAS_NAMED, cameras=sorted(set(names)))
        return {row["camera"] for row in rows}

    async def camera_names(self, limit: int) -> list[str]:
        """The first `limit` camera names, by name."""
        return [row["camera"] for row in await self._rows(queries.CAMERA_NAMES, limit=limit)]

    async def search_images(self, span: Window, labels: Sequence[str],
                            after: tuple[int, str] | None, limit: int, **scope: Any) -> list[Row]:
        """Images newest first after the cursor, carrying every asked label in range."""
        cursor = {"after_ts": after[0], "after_key": after[1]} if after else NO_CURSOR
        reach = span.before(after[0]) if after else span
        parameters = {**span.bounds, **cursor, **scope, "labels": list(labels), "limit": limit}

        counter = await self._page_counter(labels, scope)

        async def on_dates(dates: list[str]) -> list[Row]:
            if counter is None:
                return await self._images(queries.IMAGES_ON_DATES, dates=dates, **parameters)
            return await self._newest_of_hours(
                dates, counter, span, after, queries.IMAGES_ON_HOURS, queries.IMAGES_ON_DATES,
                parameters)

        # A common label fills a page from a few dates; a rare one would walk the whole
        # window, so after a few chunks the search starts from the rarest asked label.
        budget = LABEL_SEARCH_DATE_FETCHES if labels else None
        rows = await newest_first(on_dates, reach.dates, limit, max_fetches=budget)
        if rows is not None:
            return rows
        return await self._images(queries.IMAGES_OF_LABEL, label=await self._rarest(labels),
                                  **parameters)

    async def rollup(self, span: Window, **scope: Any) -> list[Row]:
        """Image counts grouped by the asked time parts and camera: over a long window the
        whole days inside it from the tallies (for an integer confidence; day tallies when
        days are asked, else months), the hours straddling its ends and every other window
        in Cypher from the images."""
        parts = await self._tally_split(span, scope["min_confidence"],
                                        by_day="day" in scope["parts"])
        if parts is not None:
            by_period = bool(set(scope["parts"]) & {"year", "month", "day"})
            parts = parts if "day" in scope["parts"] else netted(parts)
            parts, tallies = await self._tallied(parts, span, scope["cameras"],
                                                 scope["detector"], scope["label"],
                                                 not by_period and _whole_history(span, parts))
            return add_rollups(
                rollup_rows(tallies, scope["parts"], scope["label"], scope["min_confidence"]),
                await self._on_edges(queries.ROLLUP_ON_EDGES, parts, span, **scope))
        return await self._rows(queries.ROLLUP_ON_DATES, dates=list(span.dates), **span.bounds,
                                **scope)

    async def reviewed(self, span: Window, **scope: Any) -> list[Row]:
        """Each reviewed image in scope with the reviewer's truth and the detector's confidence."""
        return await self._collected(queries.REVIEWED, **span.bounds, **scope)

    async def reviewed_images(self, span: Window, after: tuple[int, str] | None, limit: int,
                              **scope: Any) -> list[Row]:
        """A page of the images judged for the label in scope, newest first, with the verdict."""
        cursor = {"after_ts": after[0], "after_key": after[1]} if after else NO_CURSOR
        return await self._images(queries.REVIEWED_IMAGES, **span.bounds, **cursor, **scope,
                                  detector=None, hour=None, limit=limit)

    async def reviewed_by_detector(self, span: Window, **scope: Any) -> list[Row]:
        """Each reviewed image in scope: the truth, its camera and camera-local hour, who
        labelled it, each detector's confidence and model version, who gave it no label."""
        rows = await self._collected(queries.REVIEWED_BY_DETECTOR, **span.bounds, **scope)
        return [_judged(row) for row in rows]

    async def alarms(self, span: Window, thresholds: Sequence[float], **scope: Any) -> list[Row]:
        """Images at or above each threshold per camera and detector, with their first and
        last capture."""
        parameters = {**span.bounds, **scope, "thresholds": list(thresholds)}
        if span.short:
            return await self._rows(queries.ALARMS_ON_DATES, dates=list(span.dates),
                                    **parameters)
        return await self._rows(queries.ALARMS_OF_LABEL, **parameters)

    async def reviewed_for_export(self, span: Window, **scope: Any) -> list[Row]:
        """Each reviewed image in scope with its verdict, bucket and the label's boxes per
        detector (JSON text, checked by the export), by object key."""
        rows = await self._collected(queries.REVIEWED_FOR_EXPORT, **span.bounds, **scope)
        return sorted(({**row, "labels": [label for label in row["labels"]
                                          if label["detector"] is not None]} for row in rows),
                      key=lambda row: row["object_key"])

    async def detectors(self, span: Window, budget: int) -> tuple[Row, int, bool]:
        """Images per detector among the window's newest `budget` images (walking dates back).

        Returns ({detector: images}, images scanned, whether that was every image of the window).
        """
        seen: dict[str, int] = {}
        scanned, remaining, size = 0, list(span.dates), FIRST_CHUNK_DATES
        while remaining and scanned < budget:
            chunk, remaining = remaining[-size:], remaining[:-size]
            for row in await self._rows(queries.DETECTORS_ON_DATES, dates=chunk, **span.bounds,
                                        limit=budget - scanned):
                scanned += row["images"]
                for name in set(row["detectors"]):
                    seen[name] = seen.get(name, 0) + row["images"]
            size = min(size * 2, CHUNK_DATES_MAX)
        return seen, scanned, not remaining and scanned < budget

    async def review_queue(self, span: Window, after: tuple[float, int, str] | None,
                           limit: int, **scope: Any) -> list[Row]:
        """Unreviewed images: where detectors disagree, then without the label, newest first;
        then the least confident. scope holds the label, cameras and the detectors' thresholds."""
        phase = None if after is None else after[0]
        rows: list[Row] = []
        if phase == DISAGREEMENT or (phase is None and await self._several_detectors(span)):
            rows = await self._disagreeing(span, after if phase == DISAGREEMENT else None,
                                           limit, **scope)
        if len(rows) < limit and (phase is None or phase < 0):
            rows += await self._unlabelled(span, after if phase == UNLABELLED else None,
                                           limit - len(rows), **scope)
        if len(rows) < limit:
            cursor = ({"after_score": after[0], "after_ts": after[1], "after_key": after[2]}
                      if after and after[0] >= 0 else {"after_score": -1.0, **NO_CURSOR})
            parameters = {**span.bounds, **cursor, **scope, "detector": None,
                          "limit": limit - len(rows)}
            if span.short:
                rows += await self._images(queries.LABELLED_ON_DATES, dates=list(span.dates),
                                           **parameters)
            else:
                rows += await self._images(queries.LABELLED_OF_LABEL, **parameters)
        return rows

    async def sample_keys(self, span: Window, limit: int, **scope: Any) -> list[str]:
        """Object keys of at most `limit` images in scope the random sample has not judged
        for the label."""
        return await self._collected(queries.SAMPLE_KEYS_ON_DATES, dates=list(span.dates),
                                     **span.bounds, limit=limit, **scope)

    async def images_by_keys(self, keys: Sequence[str]) -> list[Row]:
        """The images of these object keys with their labels, in no order."""
        return await self._images(queries.IMAGES_BY_KEYS, keys=list(keys), detector=None)

    async def _several_detectors(self, span: Window) -> bool:
        """Whether the window's newest images show two detectors, so disagreements may exist.

        Looking for them costs a pass over the window's images or the label's edges and finds
        nothing where one detector labels everything: the bounded scan spares that pass. When
        the scan reads only the newest images, a stretch further back labelled by two detectors
        while the newest are labelled by one is not put first (a narrower window finds it).
        """
        seen, _, _ = await self.detectors(span, DETECTOR_SCAN_IMAGES)
        return len(seen) > 1

    async def _disagreeing(self, span: Window, after: tuple[float, int, str] | None,
                           limit: int, **scope: Any) -> list[Row]:
        """Disagreements newest first after the cursor, walking the window's dates back;
        over a long window only the dates where the tallies count an image two detectors
        labelled, or without those counts, one pass over the label's edges."""
        cursor = {"after_ts": after[1], "after_key": after[2]} if after else NO_CURSOR
        parameters = {**span.bounds, **cursor, **scope, "detector": None, "hour": None,
                      "limit": limit}
        reach = span.before(after[1]) if after else span
        if span.short:
            dates = list(reach.dates)
        elif await self._counts_several():
            dates = await self._dates_with_several_detectors(reach, scope["cameras"])
        else:  # one pass over the label's edges beats walking many dates
            rows = await self._images(queries.DISAGREEING_OF_LABEL, **parameters)
            return [{**row, "score": DISAGREEMENT} for row in rows]

        async def on_dates(chunk: list[str]) -> list[Row]:
            return await self._images(queries.DISAGREEING_ON_DATES, dates=chunk, **parameters)

        rows = await newest_first(on_dates, dates, limit) or []
        return [{**row, "score": DISAGREEMENT} for row in rows]

    async def _dates_with_several_detectors(self, span: Window,
                                            cameras: Sequence[str] | None) -> list[str]:
        """The window's dates where an image on those cameras may have two detectors: the
        whole months and days whose tallies count one, the end dates whose day nodes count
        one, and stored dates that are no dates. On a graph one detector labelled, none:
        the cameras' all-time counts say so first, so neither an image nor a month's tally
        is read (a year of history holds hundreds of months' shards)."""
        parts = split(span)
        named = await self._cameras(cameras)
        no_dates = [day for day in parts.edges if not is_date(day)]
        ever = await self._tallies_of(SEVERAL_DETECTORS, Split((), (), ()), named,
                                      whole_history=True)
        if not images_counted(ever):
            return dates_counted(span.dates, no_dates, [])
        tallies = await self._tallies_of(SEVERAL_DETECTORS, parts, named)
        ends = await self._tally_cells(
            [day_key(camera, day) for camera in named for day in parts.edges],
            SEVERAL_DETECTORS)
        return dates_counted(span.dates, no_dates, tallies + ends)

    async def _unlabelled(self, span: Window, after: tuple[float, int, str] | None,
                          limit: int, label: str, cameras: Any, **_thresholds: Any) -> list[Row]:
        cursor = {"after_ts": after[1], "after_key": after[2]} if after else NO_CURSOR
        reach = span.before(after[1]) if after else span
        parameters = {**span.bounds, **cursor, "label": label, "cameras": cameras,
                      "detector": None, "hour": None, "limit": limit}
        counter = (_Counter(await self._cameras(cameras), None, tally_property(None, None),
                            tally_property(None, label))
                   if await self._tallies_complete() else None)

        async def on_dates(dates: list[str]) -> list[Row]:
            if counter is None:
                return await self._images(queries.UNLABELLED_ON_DATES, dates=dates,
                                          **parameters)
            return await self._newest_of_hours(
                dates, counter, span, None if after is None else after[1:],
                queries.UNLABELLED_ON_HOURS, queries.UNLABELLED_ON_DATES, parameters)

        rows = await newest_first(on_dates, reach.dates, limit) or []
        return [{**row, "score": UNLABELLED} for row in rows]

    async def _page_counter(self, labels: Sequence[str], scope: Row) -> _Counter | None:
        """What the day tallies count of a page of images with at most one label in an
        integer confidence range up to 100 (None for any other page, or before the
        tallies count every image)."""
        if len(labels) > 1 or not integral(scope["min_confidence"]):
            return None
        if labels and scope["max_confidence"] < 100:
            return None
        if not await self._tallies_complete():
            return None
        name = tally_property(scope["detector"], labels[0] if labels else None)
        return _Counter(await self._cameras(scope["cameras"]), scope["hour"], name, None,
                        scope["min_confidence"] if labels else 0)

    async def _newest_of_hours(self, dates: list[str], counter: _Counter, span: Window,
                               after: Sequence[Any] | None, on_hours: str, on_dates: str,
                               parameters: Row) -> list[Row]:
        """A page's newest `limit` rows of some dates (after the cursor), read from the
        hours the day tallies say hold them (newest_hours.py): more hours while the rows
        read do not settle the page (reviewed images leave it short), the dates whole
        where a day node holds no offsets."""
        keys = [day_key(camera, day) for camera in counter.cameras for day in dates]
        nodes = await self._tally_cells(keys, counter.counted)
        counts = counts_by_hour(nodes, counter.counted.startswith("l_"), counter.min_confidence)
        if counter.left_out is not None:
            counts = without(counts, counts_by_hour(
                await self._tally_cells(keys, counter.left_out), of_label=True))
        offsets = {(node["camera"], node["period"]): node["offsets"] for node in nodes}
        edge = span.until if after is None else min(span.until, after[0])
        need, limit = parameters["limit"], parameters["limit"]
        while True:
            pick = newest_hours(counts, offsets, span.since, edge, need, counter.hour)
            if pick is None:
                return await self._images(on_dates, dates=dates, **parameters)
            rows = (await self._images(on_hours, **parameters, **Split(
                (), (), (), pick.camera_hours).images_at_ends()) if pick.camera_hours else [])
            if pick.settles(rows, limit):
                return rows
            need *= 4

    async def cameras(self) -> list[Row]:
        """Every camera with its image count and first and last capture."""
        counts = await self._camera_counts()
        dates = sorted(await self._dates())
        wanted = {camera for camera, images in counts.items() if images}
        first = await self._camera_ends(dates, wanted, newest=False)
        last = await self._camera_ends(dates[::-1], wanted, newest=True)
        return [{"camera": camera, "images": images, "first_ts": first.get(camera),
                 "last_ts": last.get(camera)} for camera, images in counts.items() if images]

    async def _camera_counts(self) -> dict[str, int]:
        """Each camera's images: added up from its all-time tallies once they count every
        image, else counted along its edges (a count that grows with its history)."""
        if not await self._tallies_complete():
            return {row["camera"]: row["images"]
                    for row in await self._rows(queries.CAMERA_IMAGES)}
        counts: dict[str, int] = {}
        for row in await self._tallies(Split((), (), ()), None, None, None, whole_history=True):
            counts[row["camera"]] = counts.get(row["camera"], 0) + images_counted([row])
        return dict(sorted(counts.items()))

    async def _camera_ends(self, dates: Sequence[str], wanted: set[str],
                           newest: bool) -> dict[str, int]:
        """Each wanted camera's last (or first) capture, walking dates from that end in chunks.

        A camera's end is final once no date beyond the chunk can hold a capture past it.
        """
        ends: dict[str, int] = {}
        found: set[str] = set()
        walked = 0
        size = FIRST_CHUNK_DATES
        field, better = ("last_ts", max) if newest else ("first_ts", min)
        while walked < len(dates) and found < wanted:
            chunk = list(dates[walked:walked + size])
            walked += len(chunk)
            for row in await self._rows(queries.CAMERA_SPANS_ON_DATES, dates=chunk):
                held = ends.get(row["camera"])
                ends[row["camera"]] = row[field] if held is None else better(held, row[field])
            edge = chunk[-1]
            found = {camera for camera, ts in ends.items()
                     if (ts >= settled_from(edge) if newest
                         else ts < settled_from(edge) - DAY_SECONDS)}
            size = min(size * 2, CHUNK_DATES_MAX)
        return ends

    async def _tally_state(self) -> Row | None:
        """The graph-writer's TallyState once its tallies count every image (an older graph
        is being counted until then); None before."""
        rows = await self._rows(queries.TALLY_STATE)
        complete = bool(rows) and rows[0]["complete"] is True
        return rows[0] if complete and rows[0]["version"] == TALLY_VERSION else None

    async def _tallies_complete(self) -> bool:
        return await self._tally_state() is not None

    async def _counts_several(self) -> bool:
        """Whether the tallies count every image two detectors or more labelled (a graph
        counted before they did, unless rebuilt, does not say so)."""
        state = await self._tally_state()
        return state is not None and state["counts_several"] is True

    async def _tally_split(self, span: Window, *bounds: float | None,
                           by_day: bool = False) -> Split | None:
        """Which part of the window the tallies answer: None where the images answer alone
        (a short window is flat already; a bound between integers needs each confidence;
        tallies that do not yet count every image)."""
        if span.short and not _all_time(span):
            return None
        if not all(integral(bound) for bound in bounds):
            return None
        return split(span, by_day) if await self._tallies_complete() else None

    async def _cameras(self, cameras: Sequence[str] | None) -> list[str]:
        """The cameras asked, or every named camera."""
        if cameras is not None:
            return list(cameras)
        return [row["camera"] for row in await self._rows(queries.CAMERAS)]

    async def _tallies(self, parts: Split, cameras: Sequence[str] | None,
                       detector: str | None, label: str | None,
                       whole_history: bool = False) -> list[Row]:
        """A view's image counts (label None) or a label's cells: see _tallies_of."""
        return await self._tallies_of(tally_property(detector, label), parts, cameras,
                                      whole_history)

    async def _tallies_of(self, name: str, parts: Split, cameras: Sequence[str] | None,
                          whole_history: bool = False, read: Sequence[Row] = ()) -> list[Row]:
        """One property's cells on those cameras over the split's whole months and days,
        or all time: the shards of the months (all time), the days the cameras' registries
        hold unfolded in them (filed under their month, or all time), and the whole days.
        A netted month (tallies.netted) is its shard, its unfolded days inside the window,
        and its folded days outside it counted negative (those among the day nodes `read`
        already, the window's end dates, are not read again). Each registry is read once."""
        named = await self._cameras(cameras)
        months = None if whole_history else (*parts.months, *parts.netted)
        thin: list[Row] = []
        unfolded: set[tuple[str, str]] = set()
        if whole_history or months:
            nodes = await self._rows(queries.TALLY_THIN, property=name,
                                     keys=[*thin_keys(named, months, name),
                                           *(registry_key(camera) for camera in named)])
            thin = [node for node in nodes if node["level"] != UNFOLDED and node["cells"]]
            unfolded = unfolded_days(nodes, months)
        # A netted month's unfolded days count where the window holds them; its folded
        # days outside the window are in its shard, so they are taken off it.
        outside = {(camera, day) for camera in named for month in parts.netted
                   for day in parts.outside(month) if (camera, day) not in unfolded}
        unfolded -= {(camera, day) for camera, day in unfolded
                     if day[:7] in parts.netted and day not in parts.days}
        known = [row for row in read if (row["camera"], row["period"]) in outside]
        to_read = outside - {(row["camera"], row["period"]) for row in known}
        days = await self._tally_cells([*parts.day_keys(named),
                                        *(day_key(camera, day) for camera, day in
                                          sorted(unfolded | to_read))], name)
        taken_off = [{**row, "period": row["period"][:7],
                      "cells": negated(row["cells"], name.startswith("l_"))}
                     for row in [*days, *known]
                     if row["cells"] and (row["camera"], row["period"]) in outside]
        added = [row for row in days if (row["camera"], row["period"]) not in outside]
        return thin + filed_under_thin(added, unfolded, whole_history) + taken_off

    async def _tallied(self, parts: Split, span: Window, cameras: Sequence[str] | None,
                       detector: str | None, label: str | None, whole_history: bool = False
                       ) -> tuple[Split, list[Row]]:
        """What the images must still answer of the split, and one property's cells that
        answer the rest: `_tallies_of`, and the hours of the window's end dates their day
        nodes answer (tallies.sharpen; the nodes of every camera in one statement, read
        first: a netted month takes its end dates off its shard from them)."""
        named = await self._cameras(cameras)
        name = tally_property(detector, label)
        nodes = await self._rows(queries.TALLY_CELLS, property=name, keys=[
            day_key(camera, day) for camera in named for day in parts.edges]
        ) if parts.edges else []
        tallied = await self._tallies_of(name, parts, named, whole_history, nodes)
        if not parts.edges:
            return parts, tallied
        ends, end_cells = sharpen(parts, span, nodes, of_label=label is not None)
        return ends, tallied + end_cells

    async def _tally_cells(self, keys: Sequence[str], name: str) -> list[Row]:
        """One property (a view's image counts or a label's cells) of the day tallies of
        these keys that hold it."""
        if not keys:
            return []
        rows = await self._rows(queries.TALLY_CELLS, keys=list(keys), property=name)
        return [row for row in rows if row["cells"]]

    async def _on_edges(self, query: str, tallied: Split, span: Window, /,
                        **parameters: Any) -> list[Row]:
        """An *_ON_EDGES statement's rows over what the images answer at the window's ends
        (none when nothing); a rollup's scope holds `parts`, hence positional arguments."""
        if not tallied.read_from_images:
            return []
        return await self._rows(query, **tallied.images_at_ends(), **span.bounds,
                                **parameters)

    async def _sightings_from_tallies(self, span: Window, parts: Split,
                                      **scope: Any) -> list[Row]:
        """Sightings per camera: counts from the tallies and the images of the hours
        straddling the window's ends; first and last capture from those images, or where
        those do not settle them, from the images of the hours that can hold them (the
        day nodes' cells and offsets tell which), else of the dates that hold them."""
        label, detector, at = scope["label"], scope["detector"], scope["min_confidence"]
        parts, tallied = await self._tallied(netted(parts), span, scope["cameras"], detector,
                                             label)
        counts = {place: count for place, count in per_period(tallied, at).items() if count > 0}
        edges = await self._on_edges(queries.SIGHTINGS_ON_EDGES, parts, span, **scope)
        days = [row for row in tallied if is_date(row["period"])] + await self._month_ends(
            counts, parts, tally_property(detector, label), at)
        ends = unsettled_ends(counts, edges, capture_bounds(days, at))
        ends, hours = settled_by_hours(ends, end_hours(days, at))
        settled = await self._rows(queries.SIGHTINGS_ON_EDGES, **Split(
            (), (), (), tuple(hours)).images_at_ends(), **span.bounds, **scope) if hours else []
        ends = end_days(ends, per_period(days, at))
        found = await self._rows(queries.SIGHTINGS_ON_DATES, dates=end_dates(ends),
                                 **span.bounds, **{**scope, "cameras": sorted(ends)}
                                 ) if ends else []
        return sightings_rows(counts, edges, [*settled, *found])

    async def _month_ends(self, counts: Counts, parts: Split, name: str,
                          min_confidence: float) -> list[Row]:
        """The day nodes (one property) that may hold each camera's first (last) capture
        in a month (`month_ends`): the month's tallied dates walked from that end a few
        at a time, up to the first holding images and the two after it."""
        rows: list[Row] = []
        for (month, from_start), cameras in sorted(month_ends(counts, parts).items()):
            order = parts.tallied(month)[::1 if from_start else -1]
            found: dict[str, int] = {}
            pending, walked = set(cameras), 0
            while pending and walked < len(order):
                chunk = order[walked:walked + FIRST_CHUNK_DATES]
                read = await self._tally_cells(
                    [day_key(camera, day) for camera in sorted(pending) for day in chunk], name)
                rows += read
                for row in read:
                    if images_counted([row], True, min_confidence):
                        place = walked + chunk.index(row["period"])
                        found[row["camera"]] = min(found.get(row["camera"], place), place)
                walked += len(chunk)
                pending = {camera for camera in pending
                           if camera not in found or walked < found[camera] + 3}
        return rows

    async def _rarest(self, labels: Sequence[str]) -> str:
        edges = {row["label"]: row["edges"]
                 for row in await self._rows(queries.LABEL_EDGES, labels=list(labels))}
        # A label the graph does not know has no images: it is the cheapest anchor of all.
        return min(labels, key=lambda name: (edges.get(name, 0), name))


def _all_time(span: Window) -> bool:
    return span.since == EARLIEST and span.until == LATEST


@dataclass(frozen=True)
class _Counter:
    """What a page's images are in the day tallies: a property's cells (at or above an
    integer confidence) on those cameras (named once per walk, not per chunk of dates), in
    one local hour of the day (None: any), less a label's cells (`left_out`: the images
    without the label)."""

    cameras: Sequence[str]
    hour: int | None
    counted: str
    left_out: str | None
    min_confidence: float = 0


def _whole_history(span: Window, parts: Split) -> bool:
    """Whether the all-time tallies answer the window's tallied part: all time, with no
    date read from images (they count every date the writer filed) nor by day."""
    return _all_time(span) and not parts.edges and not parts.days


def _judged(row: Row) -> Row:
    edges = [label for label in row["labels"] if label["detector"] is not None]
    confidences: dict[str, float] = {}
    for edge in edges:
        if edge["confidence"] is not None:
            name, confidence = edge["detector"], edge["confidence"]
            confidences[name] = max(confidence, confidences.get(name, confidence))
    spoke = {edge["detector"] for edge in edges}
    return {"object_key": row["object_key"], "present": row["present"], "camera": row["camera"],
            "hour": local_hour(row["captured_at"]), "detectors": row["detectors"],
            "confidences": confidences,
            "versions": {edge["detector"]: edge["model_version"] for edge in edges},
            "silent": {name for name in row["detectors"] if name not in spoke}}


def _clean(rows: list[Row]) -> list[Row]:
    # OPTIONAL MATCH with no label collects one all-null map: drop it; most confident first.
    for row in rows:
        row["detectors"] = row["detectors"] or []
        row["labels"] = sorted(({**label, "boxes": stored_boxes(label["boxes"])}
                                for label in row["labels"] if label["name"] is not None),
                               key=lambda label: (-label["confidence"], label["name"]))
    return rows
