"""Answers over long windows and all time read from the graph-writer's tallies and the
window's ends (histograms, sightings, rollups, image counts, /cameras, the review queue's
disagreements) equal the answers read from the images, on one graph written by the real
graph-writer into the session's ArcadeDB, part of its days folded into the thin tallies and
part not; the ends read from the images only the hours that straddle them (a day node
written before offsets: its whole day), also on the day a camera's clock went back; and a
graph written before tallies is counted by the writer's start, the api reading images until
then."""

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

from neo4j import AsyncGraphDatabase

from labelgraph_api import queries
from labelgraph_api.adapters.graph import GraphSession
from labelgraph_api.adapters.graph_reads import NO_CURSOR, CypherReads
from labelgraph_api.domain import DISAGREEMENT, UNLABELLED, review_key
from labelgraph_api.tallies import SEVERAL_DETECTORS
from labelgraph_api.windows import LATEST, newest_first
from labelgraph_devstack.testing import LABELED_AT, labelled_event
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.bootstrap import recount
from labelgraph_graph_writer.config import GraphWriterSettings
from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.handlers import fill_tallies
from labelgraph_graph_writer.recount import Scope
from labelgraph_graph_writer.tallies import SEVERAL_DETECTORS as WRITERS_SEVERAL_DETECTORS

CONFIDENCES = (0.0, 49.5, 89.0, 89.999, 90.0, 99.99, 100.0)
ZONES = [timezone(timedelta(hours=hours, minutes=minutes))
         for hours, minutes in ((-12, 0), (-8, 0), (0, 0), (5, 30), (14, 0))]
FIRST_CAPTURE = datetime(2016, 10, 1, tzinfo=UTC)
CAPTURE_DAYS = 120
# Windows whose first and last days are partial (a window's dates each side are read from
# images), one open at its end, and all time.
WINDOWS = ((datetime(2016, 10, 15, 13, 17, 5, tzinfo=UTC), datetime(2017, 1, 20, 4, tzinfo=UTC)),
           (datetime(2016, 11, 3, 23, 59, 59, tzinfo=UTC), datetime(2016, 11, 24, tzinfo=UTC)),
           (datetime(2016, 12, 30, 7, 30, tzinfo=UTC), None),
           (None, None),
           (datetime(2016, 11, 6, 9, 20, tzinfo=UTC), datetime(2016, 12, 18, 17, 45, 30,
                                                                tzinfo=UTC)))
# Los Angeles put its clocks back at 2016-11-06 09:00 UTC: that local date holds -07:00
# and -08:00, and 01:00-02:00 twice. The last window starts inside that doubled hour.
CLOCKS_BACK = datetime(2016, 11, 6, 9, tzinfo=UTC)
DST_WINDOW = WINDOWS[-1]
# The hours the Pacific camera's images are read for over DST_WINDOW: 09:20 UTC is 01:20
# at -08:00, while 01:xx at -07:00 was 08:xx UTC, so hours 1 and 2 of the 6th may hold
# captures on each side; 17:45:30 UTC is 09:45:30 at -08:00 on the 18th.
PACIFIC_HOURS = ["2016-11-06T01", "2016-11-06T02", "2016-12-18T09"]
# A day node left as a writer before offsets left it: its camera's day is read whole.
OLDER_DAY = "2016-12-18"
# (width, threshold): integer ones from tallies, one between integers from the images.
HISTOGRAMS = ((None, 90.0), (5.0, 89.0), (1.0, 100.0), (10.0, 0.0), (None, 89.999))
AT_LEAST = (0.0, 90.0, 100.0, 89.5)


def captures(rng):
    """Captures spread over four months, and some either side of each window's bounds in
    the zones furthest apart (a capture filed under a date inside may fall outside)."""
    spread = [FIRST_CAPTURE + timedelta(seconds=rng.randrange(CAPTURE_DAYS * 86_400))
              for _ in range(60)]
    near = [bound + timedelta(hours=hours) for bounds in WINDOWS for bound in bounds
            if bound is not None for hours in (-13, -1, 1, 13)]
    return ([moment.astimezone(rng.choice(ZONES)) for moment in spread]
            + [moment.astimezone(zone) for moment in near for zone in (ZONES[0], ZONES[-1])])


def pacific_captures(rng):
    """Captures in Los Angeles around DST_WINDOW's bounds and between them."""
    moments = [bound + timedelta(minutes=minutes) for bound in DST_WINDOW
               for minutes in (-50, -20, 10, 40)]
    moments += [DST_WINDOW[0] + timedelta(seconds=rng.randrange(42 * 86_400))
                for _ in range(10)]
    return [moment.astimezone(timezone(timedelta(hours=-7 if moment < CLOCKS_BACK else -8)))
            for moment in moments]


def events(cameras, labels, rng, detectors=("det-a", "det-b")):
    """Labellings of the captures on the first two cameras, the Pacific ones on the
    third, by the detectors."""
    made = []
    placed = [(cameras[index % 2], captured) for index, captured in enumerate(captures(rng))]
    placed += [(cameras[2], captured) for captured in pacific_captures(rng)]
    for camera, captured in placed:
        key = f"tally-api/{uuid.uuid4().hex}.jpg"
        for minutes in range(rng.randint(1, 3)):
            picked = rng.sample(labels, rng.randint(0, len(labels)))
            made.append(labelled_event(
                key, {name: rng.choice(CONFIDENCES) for name in picked},
                camera=camera, captured=captured, detector=rng.choice(detectors),
                labeled_at=LABELED_AT + timedelta(minutes=minutes)))
    rng.shuffle(made)
    return made


# The statements reading the hours straddling a window's ends (the sightings' also reads
# the hours that can hold each camera's first and last capture: not among these).
ON_EDGES = {queries.HISTOGRAM_ON_EDGES, queries.ROLLUP_ON_EDGES, queries.IMAGE_COUNT_ON_EDGES}


class RecordingSession(GraphSession):
    """The api's session, keeping the statements the reads ran and what the statements
    reading a window's ends from the images were given."""

    ran: list[str]
    ends: list[dict]
    dates_read: list[dict]

    def __init__(self, *arguments):
        super().__init__(*arguments)
        self.ran, self.ends, self.dates_read, self.calls = [], [], [], []

    async def rows(self, query, **parameters):
        self.ran.append(query)
        self.calls.append((query, parameters))
        if query in ON_EDGES:
            self.ends.append(parameters)
        if query == queries.SIGHTINGS_ON_DATES:
            self.dates_read.append(parameters)
        return await super().rows(query, **parameters)


def hours_read(ends, camera):
    """The local hours ("YYYY-MM-DDTHH") of a camera the end statements read."""
    return sorted({hour[:13] for asked in ends for hour in asked["camera_hours"]
                   if hour[13:] == camera})


def driver_of(env):
    return AsyncGraphDatabase.driver(env["NEO4J_URI"],
                                     auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"]))


@contextlib.asynccontextmanager
async def recording_reads(env):
    """The api's reads of the stack's graph, over a session recording their statements."""
    driver = driver_of(env)
    try:
        session = RecordingSession(driver, env["NEO4J_DATABASE"], 30)
        yield session, CypherReads(session)
    finally:
        await driver.close()


async def write_history(env, cameras, labels, fold_midway=False, detectors=("det-a", "det-b")):
    """The real writer's adapter writes a random history of the cameras' images; midway,
    every day written so far may be folded into the thin tallies (the rest of the history
    then changes some folded days and makes new, unfolded ones)."""
    driver = driver_of(env)
    try:
        writer = LabelGraph(driver, env["NEO4J_DATABASE"])
        await writer.ensure_schema()
        history = events(cameras, labels, random.Random(3), detectors)
        for start in range(0, len(history), 7):
            if fold_midway and start == len(history) // 14 * 7:
                assert await writer.fold_settled_days(time.time() + 1, 10_000) > 0
            batch = history[start:start + 7]
            await writer.write_batch(sorted({e.object_key for e in batch}),
                                     lambda held, batch=batch: plan_batch(batch, held))
    finally:
        await driver.close()


async def folded_and_unfolded_days(env, cameras):
    """How many of the cameras' days are folded, and how many their registries hold."""
    driver = driver_of(env)
    try:
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            result = await session.run(
                "MATCH (tally:Tally) WHERE tally.camera IN $cameras "
                "RETURN tally.level AS level, tally.folded AS folded, tally.dates AS dates",
                cameras=cameras)
            nodes = [record.data() async for record in result]
        return (sum(node["level"] == "day" and node["folded"] is True for node in nodes),
                sum(len(node["dates"] or []) for node in nodes if node["level"] == "unfolded"))
    finally:
        await driver.close()


async def forget_tallies(env, cameras, labels):
    """Leave the cameras' images as a writer before tallies left them: no tally counts
    them, none is marked as counted, and the graph says nothing of its tallies; and their
    labels as a writer before the edge counter left them: without one."""
    driver = driver_of(env)
    try:
        graph = LabelGraph(driver, env["NEO4J_DATABASE"])
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            await (await session.run("MATCH (tally:Tally) WHERE tally.camera IN $cameras "
                                     "DETACH DELETE tally", cameras=cameras)).consume()
            await (await session.run(
                "MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image) "
                "WHERE camera.camera_name IN $cameras REMOVE image.tally_version",
                cameras=cameras)).consume()
            await (await session.run("MATCH (state:TallyState) DELETE state")).consume()
            await (await session.run("MATCH (label:Label) WHERE label.label_name IN $labels "
                                     "REMOVE label.edge_count", labels=labels)).consume()
        return {key for key in await graph.tallies(None) if key[1] in cameras}
    finally:
        await driver.close()


async def forget_offsets(env, camera, day):
    """Leave a camera's day node as a writer before offsets left it."""
    driver = driver_of(env)
    try:
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            result = await session.run(
                "MATCH (tally:Tally {tally_key: $key}) REMOVE tally.utc_offsets "
                "RETURN count(tally) AS nodes", key=json.dumps(["day", camera, day],
                                                                 separators=(",", ":")))
            assert (await result.single())["nodes"] == 1
    finally:
        await driver.close()


async def mark_counted(env):
    driver = driver_of(env)
    try:
        await fill_tallies(LabelGraph(driver, env["NEO4J_DATABASE"]), 500)
    finally:
        await driver.close()


async def label_counts(env, labels):
    """The labels' image counts as the api's /labels gives them, and their edge counters."""
    driver = driver_of(env)
    try:
        reads = CypherReads(GraphSession(driver, env["NEO4J_DATABASE"], 30))
        answered = {row["label"]: row["images"] for name in labels
                    for row in await reads.labels(name, 0, 10) if row["label"] == name}
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            result = await session.run("MATCH (label:Label) WHERE label.label_name IN $labels "
                                       "RETURN label.label_name AS label, label.edge_count AS n",
                                       labels=labels)
            stored = {record["label"]: record["n"] async for record in result
                      if record["n"] is not None}
        return answered, stored
    finally:
        await driver.close()


def epoch(moment):
    return None if moment is None else int(moment.timestamp())


async def compare(env, cameras, labels, tallies_complete=True, older_day=None):
    """(answer the api gives, answer read from the images) of every question the tallies
    answer, over windows long and all time; asserts each read the tallies exactly when it
    can (an integer bound, complete tallies), and over DST_WINDOW read the Pacific camera's
    images of PACIFIC_HOURS only, and the first camera's whole `older_day`."""
    driver = driver_of(env)
    try:
        session = RecordingSession(driver, env["NEO4J_DATABASE"], 30)
        reads = CypherReads(session)
        answers = []

        ends_read: dict[tuple, list[dict]] = {}

        async def asked(question, bound=0.0):
            session.ran, session.ends = [], []
            answer = await question
            read_tallies = bool({queries.TALLY_CELLS, queries.TALLY_THIN} & set(session.ran))
            assert read_tallies == (tallies_complete and float(bound).is_integer())
            # Every date of this graph is a date and every day node but one holds offsets.
            assert all(asked["whole_dates"] == [] for asked in session.ends)
            ends_read.setdefault((since, until), []).extend(session.ends)
            return answer

        since = until = None
        dates_read = {}
        for since, until in WINDOWS:
            session.dates_read = dates_read.setdefault((since, until), [])
            span = await reads.window_of(epoch(since), epoch(until))
            assert not span.short
            for label in labels:
                for detector in (None, "det-a"):
                    for width, threshold in HISTOGRAMS:
                        scope = dict(label=label, cameras=cameras, detector=detector,
                                     width=width, threshold=threshold)
                        answers.append((
                            await asked(reads.confidence_histogram(span, **scope), threshold),
                            await session.rows(queries.HISTOGRAM_OF_LABEL, **span.bounds,
                                               **scope)))
                    for at in AT_LEAST:
                        scope = dict(label=label, cameras=None, detector=detector,
                                     min_confidence=at)
                        answers.append((await asked(reads.sightings(span, **scope), at),
                                        await session.rows(queries.SIGHTINGS_OF_LABEL,
                                                           **span.bounds, **scope)))
                for parts in (["month", "year"], ["hour"], ["camera", "day", "month", "year"],
                              ["camera", "day", "hour", "month", "year"]):
                    for named, at in ((None, 0.0), (label, 90.0), (label, 100.0),
                                      (label, 89.5)):
                        scope = dict(parts=parts, cameras=cameras, label=named,
                                     min_confidence=at, detector=None)
                        from_api = await asked(reads.rollup(span, **scope), at)
                        from_images = await session.rows(
                            queries.ROLLUP_ON_DATES, dates=list(span.dates), **span.bounds,
                            **scope)
                        answers.append((sorted(from_api, key=repr),
                                        sorted(from_images, key=repr)))
            for detector in (None, "det-b"):
                answers.append((await asked(reads.images_in_scope(span, cameras, detector)),
                                sum(row["images"] for row in await session.rows(
                                    queries.IMAGE_COUNT_ON_DATES, dates=list(span.dates),
                                    **span.bounds, cameras=cameras, detector=detector))))
        if tallies_complete:
            # Where no month is whole, a camera's first and last capture come from the hours
            # that can hold them, and whole dates are read only for the camera whose day
            # node holds no offsets.
            for window, allowed in ((WINDOWS[1], set()), (DST_WINDOW, {cameras[0]})):
                assert {camera for asked in dates_read[window] for camera in asked["cameras"]
                        } & set(cameras) <= allowed
            ends = ends_read[DST_WINDOW]
            assert hours_read(ends, cameras[2]) == PACIFIC_HOURS
            older = [hour for hour in hours_read(ends, cameras[0]) if hour[:10] == older_day]
            assert older == [f"{older_day}T{hour:02d}" for hour in range(24) if older_day]
        # Only this test's cameras: other tests on the session's graph write theirs their way.
        listed = await asked(reads.cameras())
        counted = {row["camera"]: row["images"]
                   for row in await session.rows(queries.CAMERA_IMAGES)
                   if row["camera"] in cameras}
        answers.append(({row["camera"]: row["images"] for row in listed
                         if row["camera"] in cameras}, counted))
        return answers
    finally:
        await driver.close()


def counted_history(env, camera_prefix, label_prefix):
    """Three new cameras and two new labels, a random history of theirs written by the
    real writer (part of its days folded midway), one of its day nodes left without
    offsets, and the graph's tallies marked as counting every image."""
    cameras = sorted(f"{camera_prefix}-{uuid.uuid4().hex[:6]}" for _ in range(3))
    labels = [f"{label_prefix}{uuid.uuid4().hex[:6]}" for _ in range(2)]
    asyncio.run(write_history(env, cameras, labels, fold_midway=True))
    asyncio.run(forget_offsets(env, cameras[0], OLDER_DAY))
    asyncio.run(mark_counted(env))
    return cameras, labels


def test_all_time_histograms_rollups_and_counts_from_tallies_equal_those_from_images(stack):
    cameras, labels = counted_history(stack.env, "tally-api", "TA")
    folded, unfolded = asyncio.run(folded_and_unfolded_days(stack.env, cameras))
    assert folded > 10 and unfolded > 10, "days both folded and not"
    answers = asyncio.run(compare(stack.env, cameras, labels, older_day=OLDER_DAY))
    assert sum(bool(from_images) for _, from_images in answers) > len(answers) * 3 // 4, \
        "most questions find images"
    for from_tallies, from_images in answers:
        assert from_tallies == from_images


def test_a_graph_written_before_tallies_is_counted_when_the_writer_starts(stack):
    cameras = sorted(f"tally-old-{uuid.uuid4().hex[:6]}" for _ in range(3))
    labels = [f"TO{uuid.uuid4().hex[:6]}" for _ in range(2)]
    asyncio.run(write_history(stack.env, cameras, labels))
    counted, stored = asyncio.run(label_counts(stack.env, labels))
    assert counted == stored and len(counted) == 2, "the writer counted the labels' edges"
    assert asyncio.run(forget_tallies(stack.env, cameras, labels)) == set(), \
        "no tally counts them"
    # Until the writer has counted them, the api reads the images (and the labels' edges):
    # the same answers.
    answers = asyncio.run(compare(stack.env, cameras, labels, tallies_complete=False))
    for from_api, from_images in answers:
        assert from_api == from_images
    assert asyncio.run(label_counts(stack.env, labels)) == (counted, {})
    env = os.environ | stack.env | {"GRAPH_WRITER_TALLY_FILL_BATCH": "7"}
    schema = subprocess.run([sys.executable, "-m", "labelgraph_graph_writer", "schema"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stderr
    assert "the tallies count every image" in schema.stderr + schema.stdout
    assert asyncio.run(counts_several(stack.env)) == [True], \
        "a graph filled from before tallies counts the images several detectors labelled"
    assert "counted the edges of the labels written before the edge counter" in (
        schema.stderr + schema.stdout)
    assert asyncio.run(label_counts(stack.env, labels)) == (counted, counted)
    settings = GraphWriterSettings(
        neo4j_uri=stack.env["NEO4J_URI"], neo4j_user=stack.env["NEO4J_USER"],
        neo4j_password=stack.env["NEO4J_PASSWORD"], neo4j_database=stack.env["NEO4J_DATABASE"])
    for camera in cameras:
        assert asyncio.run(recount(settings, Scope(camera))) == []
    for from_tallies, from_images in asyncio.run(compare(stack.env, cameras, labels)):
        assert from_tallies == from_images


# The review queue's scopes: the default threshold, one detector's own, a camera.
QUEUES = ((90.0, {}, None), (50.0, {"det-b": 95.0}, None), (90.0, {}, 0))
PAGE = 4


async def disagreements(env, cameras, labels):
    """(the disagreement phase paged through by the api, the label's disagreements from one
    pass over its edges) over each long window and all time, for each label and queue
    scope; asserts the api read the tallies and never the pass over the label's edges."""
    async with recording_reads(env) as (session, reads):
        answers = []
        for since, until in WINDOWS:
            span = await reads.window_of(epoch(since), epoch(until))
            assert not span.short
            for label in labels:
                for threshold, thresholds, camera in QUEUES:
                    scope = dict(label=label, threshold=threshold, thresholds=thresholds,
                                 cameras=cameras if camera is None else [cameras[camera]])
                    session.ran = []
                    paged = await paged_disagreements(reads, span, scope)
                    assert {queries.TALLY_CELLS, queries.TALLY_THIN} & set(session.ran)
                    assert queries.DISAGREEING_OF_LABEL not in session.ran
                    passed = await session.rows(queries.DISAGREEING_OF_LABEL, **span.bounds,
                                                **NO_CURSOR, **scope, detector=None,
                                                hour=None, limit=10_000)
                    answers.append((paged, [row["object_key"] for row in passed]))
        return answers


async def paged_disagreements(reads, span, scope):
    """The object keys of the disagreement phase, page by page, from its very start (the
    cursor a user paging through a graph two detectors labelled holds)."""
    keys, after = [], (DISAGREEMENT, LATEST, "")
    while True:
        rows = await reads.review_queue(span, after, PAGE, **scope)
        found = [row for row in rows if row["score"] == DISAGREEMENT]
        keys += [row["object_key"] for row in found]
        if len(found) < PAGE:
            return keys
        after = (DISAGREEMENT, found[-1]["timestamp"], found[-1]["object_key"])


async def counts_several(env):
    driver = driver_of(env)
    try:
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            result = await session.run("MATCH (state:TallyState) "
                                       "RETURN state.counts_several AS several")
            return [record["several"] async for record in result]
    finally:
        await driver.close()


def test_the_disagreement_phase_reads_the_dates_two_detectors_labelled_and_answers_the_same(
        stack):
    assert SEVERAL_DETECTORS == WRITERS_SEVERAL_DETECTORS
    cameras = sorted(f"tally-queue-{uuid.uuid4().hex[:6]}" for _ in range(3))
    labels = [f"TQ{uuid.uuid4().hex[:6]}" for _ in range(2)]
    asyncio.run(write_history(stack.env, cameras, labels, fold_midway=True))
    asyncio.run(mark_counted(stack.env))
    assert asyncio.run(counts_several(stack.env)) == [True]
    answers = asyncio.run(disagreements(stack.env, cameras, labels))
    assert sum(len(from_edges) > PAGE for _, from_edges in answers) >= len(answers) // 3, \
        "many scopes hold more than a page of disagreements"
    for from_tallies, from_edges in answers:
        assert from_tallies == from_edges


async def forced_disagreements(env, cameras, label, since, until):
    """The disagreement phase over a window from its start, and the statements it ran."""
    async with recording_reads(env) as (session, reads):
        span = await reads.window_of(epoch(since), epoch(until))
        session.ran = []
        rows = await reads.review_queue(span, (DISAGREEMENT, LATEST, ""), PAGE, label=label,
                                        cameras=cameras, threshold=90.0, thresholds={})
        return [row for row in rows if row["score"] == DISAGREEMENT], session.ran


def test_on_cameras_one_detector_labelled_the_disagreement_phase_reads_no_image(stack):
    cameras = sorted(f"tally-one-{uuid.uuid4().hex[:6]}" for _ in range(3))
    labels = [f"TN{uuid.uuid4().hex[:6]}" for _ in range(2)]
    asyncio.run(write_history(stack.env, cameras, labels, detectors=("det-a",)))
    asyncio.run(mark_counted(stack.env))
    assert asyncio.run(counts_several(stack.env)) == [True]
    # Over all time and over long windows whose end dates the day nodes answer too.
    for since, until in WINDOWS:
        found, ran = asyncio.run(forced_disagreements(stack.env, cameras, labels[0], since,
                                                      until))
        assert found == []
        assert {queries.TALLY_CELLS, queries.TALLY_THIN} & set(ran), "the tallies answered"
        assert not {queries.DISAGREEING_ON_DATES, queries.DISAGREEING_OF_LABEL} & set(ran), \
            "no image was read for disagreements"


# Image pages newest first read only the hours the day tallies say hold them: (labels,
# min_confidence, detector, hour of day) of the gallery's scopes; one between integers, or
# two labels, reads the dates as before.
GALLERY = ((), 0.0, None, None), ((0,), 90.0, None, None), ((1,), 0.0, "det-a", None), \
    ((0,), 100.0, None, None), ((0,), 0.0, None, 13), ((0,), 89.5, None, None), \
    ((0, 1), 0.0, None, None)


async def walk(page):
    """Every page of a walk newest first (the object keys of each)."""
    pages, after = [], None
    while True:
        rows = await page(after=after)
        pages.append([row["object_key"] for row in rows])
        if len(rows) < PAGE:
            return pages
        after = (rows[-1]["timestamp"], rows[-1]["object_key"])


async def review(env, keys, label, judged=True):
    """Reviewers' verdicts on these images for the label, projected onto the graph as the
    api projects them (judged), or taken off it again: only the graph holds them, and an
    api starting on the session's graph would adopt them into its verdict table."""
    verdicts = [{"review_key": review_key(key, label), "object_key": key, "label": label,
                 "present": False, "reviewer": "tally-test",
                 "reviewed_at": "2026-12-07T00:00:00+00:00", "sampled": False} for key in keys]
    driver = driver_of(env)
    try:
        async with driver.session(database=env["NEO4J_DATABASE"]) as session:
            await (await session.run(queries.PROJECT_VERDICTS, verdicts=verdicts) if judged
                   else await session.run("UNWIND $keys AS key MATCH (review:Review "
                                          "{review_key: key}) DELETE review",
                                          keys=[row["review_key"] for row in verdicts])
                   ).consume()
    finally:
        await driver.close()


async def unlabelled(reads, span, scope, after):
    """A page of the review queue's images without the label (the phase's rows only)."""
    rows = await reads.review_queue(span, (UNLABELLED, *(after or (LATEST, ""))), PAGE,
                                    **scope, threshold=90.0, thresholds={})
    return [row for row in rows if row["score"] == UNLABELLED]


def cursor_of(after):
    return NO_CURSOR if after is None else {"after_ts": after[0], "after_key": after[1]}


async def gallery_from_dates(session, span, asked, scope, after):
    """A gallery page read from every image of the dates walked, as before the tallies."""
    async def fetch(dates):
        return await session.rows(queries.IMAGES_ON_DATES, dates=dates, **span.bounds,
                                  **cursor_of(after), **scope, labels=asked, limit=PAGE)
    return await newest_first(fetch, span.before(after[0]).dates if after else span.dates,
                              PAGE)


async def unlabelled_from_dates(session, span, scope, after):
    """A page of images without the label read from every image of the dates walked."""
    async def fetch(dates):
        return await session.rows(queries.UNLABELLED_ON_DATES, dates=dates, **span.bounds,
                                  **cursor_of(after), **scope, detector=None, hour=None,
                                  limit=PAGE)
    return await newest_first(fetch, span.before(after[0]).dates if after else span.dates,
                              PAGE)


async def newest_pages(env, cameras, labels):
    """(pages the api walks, pages walked over the same dates' every image) of the gallery
    and of the review queue's images without the label, over each window; asserts which
    walks read hours only: every one but those the tallies cannot tell (a bound between
    integers, two labels), and the dates of the day node without offsets."""
    async with recording_reads(env) as (session, reads):
        answers = []
        for since, until in WINDOWS:
            span = await reads.window_of(epoch(since), epoch(until))
            for picked, at, detector, hour in GALLERY:
                asked = [labels[index] for index in picked]
                scope = dict(cameras=cameras, hour=hour, detector=detector,
                             min_confidence=at, max_confidence=100.0)
                session.calls = []
                from_api = await walk(partial(reads.search_images, span, asked, limit=PAGE,
                                              **scope))
                by_dates = [given["dates"] for query, given in session.calls
                            if query == queries.IMAGES_ON_DATES]
                answers.append((from_api, await walk(partial(gallery_from_dates, session, span,
                                                             asked, scope))))
                if len(asked) < 2 and float(at).is_integer():
                    assert all(OLDER_DAY in dates for dates in by_dates), \
                        "the dates are read only where a day node holds no offsets"
                else:
                    assert queries.IMAGES_ON_HOURS not in {query for query, _ in session.calls}
            for label in labels:
                scope = dict(label=label, cameras=cameras)
                session.calls = []
                from_api = await walk(partial(unlabelled, reads, span, scope))
                assert all(OLDER_DAY in given["dates"] for query, given in session.calls
                           if query == queries.UNLABELLED_ON_DATES)
                answers.append((from_api, await walk(partial(unlabelled_from_dates, session,
                                                             span, scope))))
        return answers


def test_image_pages_read_the_hours_the_day_tallies_say_hold_them_and_answer_the_same(stack):
    cameras, labels = counted_history(stack.env, "tally-page", "TP")
    # Reviewed images leave the queue's pages short of what the tallies count: the api
    # then reads more hours.
    unreviewed = asyncio.run(newest_pages(stack.env, cameras, labels))
    newest = [key for page in unreviewed[-1][1][:3] for key in page]
    asyncio.run(review(stack.env, newest[::2], labels[-1]))
    try:
        reviewed = asyncio.run(newest_pages(stack.env, cameras, labels))
    finally:
        asyncio.run(review(stack.env, newest[::2], labels[-1], judged=False))
    for from_hours, from_dates in reviewed:
        assert from_hours == from_dates
    assert sum(len(from_dates) > 2 for _, from_dates in unreviewed) > len(unreviewed) // 2, \
        "most walks hold several pages"
    for from_hours, from_dates in unreviewed:
        assert from_hours == from_dates
