"""All-time answers read from the graph-writer's tallies equal the answers read from the
images, on one graph written by the real graph-writer into the session's ArcadeDB."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

from neo4j import AsyncGraphDatabase

from labelgraph_api import queries
from labelgraph_api.adapters.graph import GraphSession
from labelgraph_api.adapters.graph_reads import CypherReads
from labelgraph_devstack.testing import LABELED_AT, labelled_event
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.domain import plan_batch

CONFIDENCES = (0.0, 49.5, 89.0, 89.999, 90.0, 99.99, 100.0)
CAPTURES = [datetime(2016, 11, 30, 23, 30, 5, tzinfo=timezone(timedelta(hours=-8))),
            datetime(2016, 12, 1, 0, 10, tzinfo=timezone(timedelta(hours=-8))),
            datetime(2017, 1, 15, 7, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            datetime(2017, 11, 2, 12, 0, tzinfo=UTC)]


def events(cameras, labels, rng):
    made = []
    for index in range(40):
        key = f"tally-api/{uuid.uuid4().hex}.jpg"
        for minutes in range(rng.randint(1, 3)):
            picked = rng.sample(labels, rng.randint(0, len(labels)))
            made.append(labelled_event(
                key, {name: rng.choice(CONFIDENCES) for name in picked},
                camera=cameras[index % 2], captured=rng.choice(CAPTURES),
                detector=rng.choice(["det-a", "det-b"]),
                labeled_at=LABELED_AT + timedelta(minutes=minutes)))
    rng.shuffle(made)
    return made


class RecordingSession(GraphSession):
    """The api's session, keeping the statements the reads ran."""

    ran: list[str]

    async def rows(self, query, **parameters):
        self.ran.append(query)
        return await super().rows(query, **parameters)


async def compare(env, cameras, labels):
    driver = AsyncGraphDatabase.driver(env["NEO4J_URI"],
                                       auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"]))
    try:
        writer = LabelGraph(driver, env["NEO4J_DATABASE"])
        await writer.ensure_schema()
        history = events(cameras, labels, random.Random(3))
        for start in range(0, len(history), 7):
            batch = history[start:start + 7]
            await writer.write_batch(sorted({e.object_key for e in batch}),
                                     lambda held, batch=batch: plan_batch(batch, held))
        session = RecordingSession(driver, env["NEO4J_DATABASE"], 30)
        session.ran = []
        reads = CypherReads(session)
        span = await reads.window_of(None, None)
        answers = []
        for label in labels:
            for detector in (None, "det-a"):
                for width, threshold in ((None, 90.0), (5.0, 89.0)):
                    scope = dict(label=label, cameras=cameras, detector=detector, width=width,
                                 threshold=threshold)
                    session.ran = []
                    from_tallies = await reads.confidence_histogram(span, **scope)
                    assert queries.TALLIES in session.ran, "answered from the tallies"
                    assert queries.HISTOGRAM_OF_LABEL not in session.ran
                    from_images = await session.rows(queries.HISTOGRAM_OF_LABEL, **span.bounds,
                                                     **scope)
                    answers.append((from_tallies, from_images))
            for parts in (["month", "year"], ["hour"], ["camera", "day", "month", "year"],
                          ["camera", "day", "hour", "month", "year"]):
                scope = dict(parts=parts, cameras=cameras, label=label, min_confidence=90.0,
                             detector=None)
                session.ran = []
                from_tallies = await reads.rollup(span, **scope)
                assert session.ran[-1] == queries.TALLIES, "answered from the tallies"
                from_images = await session.rows(queries.ROLLUP_ON_DATES,
                                                 dates=list(span.dates), **span.bounds, **scope)
                answers.append((sorted(from_tallies, key=repr), sorted(from_images, key=repr)))
        for detector in (None, "det-b"):
            answers.append((await reads.images_in_scope(span, cameras, detector),
                            sum(row["images"] for row in await session.rows(
                                queries.IMAGE_COUNT_ON_DATES, dates=list(span.dates),
                                **span.bounds, cameras=cameras, detector=detector))))
        return answers
    finally:
        await driver.close()


def test_all_time_histograms_rollups_and_counts_from_tallies_equal_those_from_images(stack):
    cameras = sorted(f"tally-api-{uuid.uuid4().hex[:6]}" for _ in range(2))
    labels = [f"TA{uuid.uuid4().hex[:6]}" for _ in range(2)]
    answers = asyncio.run(compare(stack.env, cameras, labels))
    assert all(from_images for _, from_images in answers[:4]), "the graph holds the labels"
    for from_tallies, from_images in answers:
        assert from_tallies == from_images
