"""Use cases of the graph-writer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from labelgraph_contract import ImageLabeled, InvalidEvent, decode_event
from labelgraph_graph_writer.adapters.graph import (
    CONFLICTS,
    REFUSALS,
    TRANSIENT_ERRORS,
    describe,
)
from labelgraph_graph_writer.adapters.kafka import DeadLetterUnavailable
from labelgraph_graph_writer.domain import BatchPlan, plan_batch
from labelgraph_graph_writer.metrics import DEAD_LETTERS
from labelgraph_graph_writer.ports import DeadLetterQueue, GraphRepository
from labelgraph_graph_writer.readiness import Condition
from labelgraph_graph_writer.retrying import Retry
from labelgraph_graph_writer.tallies import TallyState

log = logging.getLogger(__name__)

# Times one event alone is tried before the graph's refusal counts as permanent: a refusal
# can be the server's (a concurrent MERGE on ArcadeDB, a server shutting down), not the data's.
ATTEMPTS_ALONE = 3


@dataclass(frozen=True)
class GraphWriter:
    """The graph-writer's outside world and policy, wired once by bootstrap."""

    graph: GraphRepository
    dead_letters: DeadLetterQueue
    excluded_cameras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Received:
    """A valid event and the message that carried it (for the dead-letter topic)."""

    record: ConsumerRecord
    event: ImageLabeled


@dataclass(frozen=True)
class Outcome:
    """What became of a batch's valid events."""

    written: int = 0
    stale: int = 0
    excluded: int = 0
    label_edges: int = 0
    rejected: int = 0

    @classmethod
    def of(cls, plan: BatchPlan) -> Outcome:
        return cls(plan.written, plan.stale, plan.excluded, len(plan.label_rows))

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(self.written + other.written, self.stale + other.stale,
                       self.excluded + other.excluded, self.label_edges + other.label_edges,
                       self.rejected + other.rejected)


class Rejected(Exception):
    """The graph refused a write every time it was tried."""


class _Refused(Exception):
    """The graph refused a write that is tried again (see ATTEMPTS_ALONE)."""


async def accept_valid(writer: GraphWriter, retry: Retry,
                       records: list[ConsumerRecord]) -> list[Received]:
    """The valid events of a batch; each other message goes to the DLQ with its reason."""
    accepted = []
    for record in records:
        try:
            event = decode_event(record.value)
        except InvalidEvent as error:
            await dead_letter(writer, retry, record, error.reason, "invalid")
            continue
        problem = _key_problem(record.key, event)
        if problem:
            await dead_letter(writer, retry, record, problem, "invalid")
        else:
            accepted.append(Received(record, event))
    return accepted


def _key_problem(key: bytes | None, event: ImageLabeled) -> str | None:
    # One image's events are ordered only within one partition, which the key chooses.
    if key is None:
        return "message has no key: it must be the event's object_key"
    if key != event.object_key.encode(errors="surrogatepass"):
        return "message key is not the event's object_key"
    return None


async def write_events(writer: GraphWriter, retry: Retry, batch: list[Received]) -> Outcome:
    """Write the batch; an event the graph keeps refusing is found by halving, dead-lettered.

    Halving is itself the retry of a refused batch: each half is tried again.
    """
    try:
        plan = await _write(writer, retry, [item.event for item in batch],
                            ATTEMPTS_ALONE if len(batch) == 1 else 1)
    except Rejected as rejected:
        if len(batch) == 1:
            await dead_letter(writer, retry, batch[0].record,
                              f"the graph rejected the event: {rejected}", "graph")
            return Outcome(rejected=1)
        log.info("the graph refused a batch: halving it", extra={
            "events": len(batch), "error": str(rejected)})
        middle = len(batch) // 2
        first = await write_events(writer, retry, batch[:middle])
        return first + await write_events(writer, retry, batch[middle:])
    return Outcome.of(plan)


async def _write(writer: GraphWriter, retry: Retry, events: list[ImageLabeled],
                 attempts: int) -> BatchPlan:
    """One transaction; transient errors retried without bound, refusals `attempts` times."""
    keys = sorted({event.object_key for event in events})
    refused = 0

    async def attempt() -> BatchPlan:
        nonlocal refused
        try:
            return await writer.graph.write_batch(
                keys, lambda held: plan_batch(events, held, writer.excluded_cameras))
        except TRANSIENT_ERRORS:
            raise
        except REFUSALS as error:
            refused += 1
            if refused >= attempts:
                raise Rejected(describe(error)) from error
            raise _Refused(describe(error)) from error

    return await retry.until_done(Condition.GRAPH_WRITES, attempt,
                                  (*TRANSIENT_ERRORS, _Refused))


async def dead_letter(writer: GraphWriter, retry: Retry, record: ConsumerRecord, reason: str,
                      cause: str) -> None:
    """Send the message to the DLQ with the reason (retried while the broker is away)."""
    await retry.until_done(Condition.DEAD_LETTERS,
                           lambda: writer.dead_letters.publish(record, reason),
                           (DeadLetterUnavailable,))
    DEAD_LETTERS.labels(cause).inc()
    log.warning("dead-lettered a message", extra={
        "topic": record.topic, "partition": record.partition, "offset": record.offset,
        "cause": cause, "reason": reason})


# Labels given their edge count a transaction by the upgrade (fill_label_counts): each
# reads its edges, and a popular label's are a tenth of the graph's.
LABELS_A_TRANSACTION = 20


async def prepare_graph(writer: GraphWriter, retry: Retry, fill_batch: int = 500) -> None:
    """Create the schema, count an older graph's images in the tallies and its labels'
    edges before the first write, waiting for the graph if it is down."""
    await retry.until_done(Condition.GRAPH_WRITES, writer.graph.ensure_schema, TRANSIENT_ERRORS)
    await retry.until_done(Condition.GRAPH_WRITES,
                           lambda: fill_counts(writer.graph, fill_batch),
                           (*TRANSIENT_ERRORS, *CONFLICTS))


async def fill_counts(graph: GraphRepository, fill_batch: int) -> None:
    """What a graph written by an older writer lacks: the tallies, the labels' edge counts."""
    await fill_tallies(graph, fill_batch)
    await fill_label_counts(graph)


async def fill_label_counts(graph: GraphRepository, chunk: int = LABELS_A_TRANSACTION) -> int:
    """Give every label written before the edge counter its degree, `chunk` labels a
    transaction (each conflicts with a writer changing those labels' edges meanwhile, so
    the count is exact); returns how many. The api counts a label without it by degree."""
    counted = 0
    while True:
        done = await graph.fill_label_counts(chunk)
        counted += done
        if done < chunk:
            break
    if counted:
        log.info("counted the edges of the labels written before the edge counter",
                 extra={"labels": counted})
    return counted


async def fill_tallies(graph: GraphRepository, batch: int) -> None:
    """Count in the tallies every image written before them, `batch` images a
    transaction, date by date; resumable (each image is marked as counted with its
    counts), and safe beside live writers (they count what they write). The api reads
    the tallies only once the graph is marked complete. A graph complete without
    `counts_several` keeps it absent: its images were counted before SEVERAL_DETECTORS."""
    state = await graph.tally_state()
    if state is not None and state.complete:
        return
    if not await graph.holds_images():  # a new graph: the writes count every image
        await graph.mark_tallies(TallyState(complete=True, counts_several=True))
        return
    # A fill begun by a writer before SEVERAL_DETECTORS counted some images without it.
    several = state is None or state.counts_several
    await graph.mark_tallies(TallyState(complete=False, counts_several=several))
    dates = await graph.image_dates()
    log.info("filling the tallies of a graph written before them", extra={"dates": len(dates)})
    for done, date in enumerate(dates, 1):
        claimed = batch
        while claimed == batch:
            claimed = await graph.count_uncounted(date, batch)
        if done % 100 == 0 or done == len(dates):
            log.info("filling tallies", extra={"dates_done": done, "dates": len(dates)})
    await graph.mark_tallies(TallyState(complete=True, counts_several=several))
    log.info("the tallies count every image")


async def fold_settled_days(graph: GraphRepository, settle_seconds: float,
                            limit: int = 100) -> int:
    """Fold every day tally not written for `settle_seconds` into its month (a day's node
    is small, a month's large: the writes go to days, and each day to its month once)."""
    folded = 0
    while True:
        found = await graph.fold_settled_days(time.time() - settle_seconds, limit)
        folded += found
        if found < limit:
            return folded


async def fold_periodically(graph: GraphRepository, settle_seconds: float,
                            every_seconds: float, stop: asyncio.Event) -> None:
    """Fold settled days every `every_seconds` until stopped. A failure puts the fold off to
    the next round (nothing is half done: each day folds in one transaction): a graph away
    or a write colliding with a batch is expected and logged as such; anything else is
    logged as an error, and the writer goes on writing days, which readers still count."""
    while not stop.is_set():
        try:
            folded = await fold_settled_days(graph, settle_seconds)
            if folded:
                log.info("folded settled days into their months", extra={"days": folded})
        except (*TRANSIENT_ERRORS, *CONFLICTS) as error:
            log.info("tally fold put off to the next round: %s", describe(error))
        except Exception as error:  # noqa: BLE001 - a background task must not die quietly
            log.error("tally fold failed, tried again next round: %s", describe(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
