"""What the api benchmark asks at each graph size, and what the dataset says the answers are.

Each question is asked over HTTP only, so the benchmark measures whatever statements the
api runs. Windows end at dataset.END, the newest capture, as "now" would on a live system.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from dataset import END

from labelgraph_api.domain import DISAGREEMENT, encode_cursor, query_digest
from labelgraph_api.windows import LATEST

TWO_HOURS = (END - timedelta(hours=2), END)
ONE_MONTH = (END - timedelta(days=30), END)
PAGE = 50
# A cursor at the very start of the review queue's disagreement phase, as the api encodes
# it: the api then looks for disagreements whatever its detector scan would say, so one run
# measures the first page with the phase (the plan before the scan) beside the one without.
# It pages the queue asked with no filter (a cursor carries its query's digest).
DISAGREEMENTS_FROM_THE_START = encode_cursor((DISAGREEMENT, LATEST - 1, ""), query_digest([]))


class Shot(NamedTuple):
    """What the benchmark keeps of one generated image (the events themselves are big)."""

    timestamp: int
    object_key: str
    person: bool  # the dataset's Person is always >= 95, so also "Person >= 90"


@dataclass(frozen=True)
class Probe:
    """One HTTP request."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Question:
    """A question of the issue's table: its n-th request, and how to check the answer."""

    ask: Callable[[int], Probe]
    expected: Any = None
    answer: Callable[[Any], Any] | None = None  # reads the compared part of a 200 body
    route: str | None = None  # for questions whose path changes from request to request


def window(span: tuple[Any, Any]) -> dict[str, str]:
    since, until = span
    return {"since": since.isoformat(), "until": until.isoformat()}


def in_window(shots: Sequence[Shot], span: tuple[Any, Any]) -> list[Shot]:
    since, until = (int(moment.timestamp()) for moment in span)
    return [shot for shot in shots if since <= shot.timestamp < until]


def newest_first(shots: Sequence[Shot]) -> list[Shot]:
    """The api's image order: newest first, the object key breaking ties."""
    return sorted(shots, key=lambda shot: (shot.timestamp, shot.object_key), reverse=True)


def fixed(probe: Probe, expected: Any = None,
          answer: Callable[[Any], Any] | None = None) -> Question:
    return Question(lambda _: probe, expected, answer)


def _keys(body: Any) -> list[str]:
    return [item["object_key"] for item in body["items"]]


def _images(body: Any) -> Any:
    return body["images"]


def _histogram(body: Any) -> Any:
    return body["images"], body["without_label"]


def _page(order: list[Shot], number: int) -> list[str]:
    return [shot.object_key for shot in order[(number - 1) * PAGE:number * PAGE]]


def questions(shots: Sequence[Shot], cursors: dict[int, str | None],
              verdict_targets: Sequence[tuple[str, bool]], seed: int) -> dict[str, Question]:
    """Every route of issue 10's table; `cursors` maps a page number to the cursor it needs."""
    order = newest_first(shots)
    person = [shot for shot in order if shot.person]
    two_hours = sum(shot.person for shot in in_window(shots, TWO_HOURS))
    month = sum(shot.person for shot in in_window(shots, ONE_MONTH))

    def with_and_without(span: tuple[Any, Any] | None) -> tuple[int, int]:
        """A histogram's Person images and the images in its window without Person."""
        scoped = in_window(shots, span) if span else list(shots)
        labelled = sum(shot.person for shot in scoped)
        return labelled, len(scoped) - labelled

    images = "/images"
    asked: dict[str, Question] = {
        "heat map, Person >= 90, last 2 hours (landing page)": fixed(
            Probe("GET", "/sightings", window(TWO_HOURS)), two_hours, _images),
        "heat map, Person >= 90, last month": fixed(
            Probe("GET", "/sightings", window(ONE_MONTH)), month, _images),
        "confidence histogram, Person, last 2 hours": fixed(
            Probe("GET", "/confidence-histogram", window(TWO_HOURS)),
            with_and_without(TWO_HOURS), _histogram),
        "confidence histogram, Person, last month": fixed(
            Probe("GET", "/confidence-histogram", window(ONE_MONTH)),
            with_and_without(ONE_MONTH), _histogram),
        "confidence histogram, Person, all time": fixed(
            Probe("GET", "/confidence-histogram"), with_and_without(None), _histogram),
        "images, newest 50 (page 1)": fixed(
            Probe("GET", images, {"limit": PAGE}), _page(order, 1), _keys),
    }
    for number, cursor in cursors.items():
        asked[f"images, page {number:,} by cursor"] = fixed(
            Probe("GET", images, {"limit": PAGE, "cursor": cursor}), _page(order, number), _keys)
    person_page = {"label": "Person", "min_confidence": 90, "limit": PAGE}
    keys = _sample_keys(shots, seed)
    return asked | {
        "images, Person >= 90, newest 50": fixed(
            Probe("GET", images, person_page), _page(person, 1), _keys),
        "one image by key (GET /images/{key})": Question(
            lambda n: Probe("GET", f"{images}/{keys[n % len(keys)]}"),
            route="GET /images/{object_key}"),
        "record one verdict (PUT /verdicts)": Question(
            lambda n: verdict(*verdict_targets[n % len(verdict_targets)])),
        "review queue, Person, first 50": fixed(Probe("GET", "/review-queue", {"limit": PAGE})),
        "review queue, Person, first 50, looking for disagreements": fixed(Probe(
            "GET", "/review-queue", {"limit": PAGE, "cursor": DISAGREEMENTS_FROM_THE_START})),
        "rollups by month": fixed(Probe("GET", "/rollups", {"by": "month"})),
        "/labels, top 50": fixed(Probe("GET", "/labels", {"limit": PAGE})),
        "/cameras": fixed(Probe("GET", "/cameras")),
        "accuracy, Person, every verdict": fixed(Probe("GET", "/accuracy")),
    }


def verdict(object_key: str, present: bool) -> Probe:
    return Probe("PUT", "/verdicts", body={"object_key": object_key, "present": present,
                                           "reviewer": "bench"})


def judge(shots: Sequence[Shot], count: int, seed: str) -> list[tuple[str, bool]]:
    """`count` reviewers' verdicts on images drawn from `shots`: right four times in five."""
    rng = random.Random(seed)
    return [(shot.object_key, shot.person if rng.random() < 0.8 else not shot.person)
            for shot in rng.sample(list(shots), min(count, len(shots)))]


def _sample_keys(shots: Sequence[Shot], seed: int) -> list[str]:
    # Images from the whole history, not only the newest: a key lookup must not depend on age.
    rng = random.Random(seed)
    return [shot.object_key for shot in rng.sample(list(shots), min(200, len(shots)))]
