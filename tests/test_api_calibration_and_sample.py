"""Calibration and the random-sample review through the real servers: labellings written by
the real graph-writer into ArcadeDB, verdicts through the api into the verdict table (moto)
and the graph, then /accuracy, /accuracy/detectors and /review-queue read back.

Two datasets on dates no other test uses (June 2008), each under its own label:
- calibration: two detectors ranking 34 images the same way, one scoring each at 0.4 times
  the other (different scales, the same eyes);
- the sample: 40 images of which 32 show a person, 24 of them flagged at 90 by the
  detector: its true recall at 90 is 0.75.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from labelgraph_contract import DetectedLabel, ImageLabeled, captured_fields, labelling_event_id
from labelgraph_devstack.clients import aws_client
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import publish_events, signed_in_page

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
KEY = f"key-{RUN}"
CALIBRATED_LABEL, SAMPLED_LABEL = f"Person{RUN}", f"Walker{RUN}"
KERB, LANE, PATH = f"kerb-{RUN}", f"lane-{RUN}", f"path-{RUN}"
WIDE, NARROW = "wide-scorer", "narrow-scorer"
SINCE, UNTIL = "2008-06-15T00:00:00+00:00", "2008-06-16T00:00:00+00:00"
SCALE = 0.4  # the narrow detector's score is this times the wide one's

# The wide detector's scores on the kerb: people mostly high, empty scenes mostly low,
# overlapping between 40 and 60 as a real detector's do.
PEOPLE = (40, 58, 62, 66, 70, 74, 78, 80, 84, 88, 90, 92, 95, 97, 99)
EMPTY = (5, 10, 15, 20, 22, 25, 30, 33, 35, 38, 42, 45, 50, 55, 60)
# The sample's 40 path images: (truth, the wide detector's score or None for no label).
TRUE_RECALL = 0.75
POPULATION = ([(True, 95.0)] * 24 + [(True, 30.0)] * 4 + [(True, None)] * 4
              + [(False, None)] * 8)


@dataclass(frozen=True)
class Shot:
    key: str
    camera: str
    label: str
    truth: bool
    score: float | None  # the wide detector's; None: it gave no such label
    minute: int


def shots() -> list[Shot]:
    made = []
    kerb = [(True, s) for s in PEOPLE] + [(False, s) for s in EMPTY]
    for index, (truth, score) in enumerate(kerb):
        made.append(Shot(f"cal/{KERB}/{RUN}/{index}.jpg", KERB, CALIBRATED_LABEL, truth,
                         float(score), index))
    # The lane has too few verdicts of its own for a fit: it uses the detector's.
    for index, (truth, score) in enumerate([(True, 90), (True, 60), (False, 20), (False, 45)]):
        made.append(Shot(f"cal/{LANE}/{RUN}/{index}.jpg", LANE, CALIBRATED_LABEL, truth,
                         float(score), index))
    for index, (truth, score) in enumerate(POPULATION):
        made.append(Shot(f"sample/{PATH}/{RUN}/{index}.jpg", PATH, SAMPLED_LABEL, truth,
                         score, index))
    return made


SHOTS = shots()


def events() -> list[ImageLabeled]:
    made = []
    for shot in SHOTS:
        scores = {WIDE: shot.score, NARROW: None if shot.score is None else shot.score * SCALE}
        for detector, score in scores.items():
            identity = dict(bucket="security-alarms", object_key=shot.key, image_etag="e1",
                            detector=detector, model_version="1")
            captured = datetime(2008, 6, 15, 12, shot.minute, tzinfo=UTC)
            labels = [] if score is None else [DetectedLabel(name=shot.label, confidence=score)]
            made.append(ImageLabeled.model_validate(dict(
                event_id=labelling_event_id(**identity), **identity, camera=shot.camera,
                **captured_fields(captured), labeled_at=datetime.now(UTC), labels=labels)))
    return made


@dataclass
class Api:
    url: str
    env: dict[str, str]

    def ok(self, path: str, params: Any = None) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, headers={"X-API-Key": KEY},
                             timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def judge(self, shot: Shot, sampled: bool, present: bool | None = None) -> Any:
        response = httpx.put(f"{self.url}/verdicts", headers={"X-API-Key": KEY}, timeout=30,
                             json={"object_key": shot.key, "label": shot.label,
                                   "present": shot.truth if present is None else present,
                                   "reviewer": "ann", "sampled": sampled})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    topic = f"calibration-{RUN}"
    asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], topic, events(),
                               partitions=2))
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("calibration-logs"),
                                extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"calibration-{RUN}",
        "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
        "API_KEYS": KEY})
    try:
        services.start(names=("graph-writer", "api"))
        api = Api(services.api_url, dict(stack.env))
        wait_for(lambda: _written(api) == len(SHOTS))
        for shot in SHOTS:
            if shot.label == CALIBRATED_LABEL:
                api.judge(shot, sampled=False)
        yield api
    finally:
        services.stop()


def _written(api: Api) -> int:
    """Images whose two labellings are both in the graph."""
    response = httpx.get(f"{api.url}/images", headers={"X-API-Key": KEY}, timeout=30,
                         params={"camera": [KERB, LANE, PATH], "limit": 200})
    if response.status_code == 422:  # a camera not written yet is an unknown camera
        return 0
    assert response.status_code == 200, response.text
    return sum(len(item["detectors"]) == 2 for item in response.json()["items"])


def calibration_scope(**more: Any) -> dict[str, Any]:
    return {"label": CALIBRATED_LABEL, "camera": [KERB, LANE], "since": SINCE,
            "until": UNTIL, "detector": [WIDE, NARROW], **more}


def recalls(body: dict[str, Any]) -> dict[str, float]:
    return {d["detector"]: d["at_threshold"]["recall"] for d in body["detectors"]}


def test_one_calibrated_probability_compares_eyes_where_one_raw_threshold_compares_scales(api):
    raw = api.ok("/accuracy/detectors", calibration_scope(threshold=50))
    assert recalls(raw) == {WIDE: 16 / 17, NARROW: 0.0}  # the narrow one never scores 50
    body = api.ok("/accuracy/detectors", calibration_scope(calibrated=0.9))
    assert body["calibrated"] == 0.9
    by_name = {d["detector"]: d for d in body["detectors"]}
    wide, narrow = by_name[WIDE], by_name[NARROW]
    assert narrow["threshold"] == pytest.approx(SCALE * wide["threshold"], rel=1e-4)
    assert 40 < wide["threshold"] < 100
    assert recalls(body)[WIDE] == recalls(body)[NARROW] > 0.5
    for detector in (wide, narrow):
        assert detector["at_threshold"]["calibrated"] == pytest.approx(0.9, abs=1e-4)
        calibration = detector["calibration"]
        assert (calibration["enough"], calibration["verdicts"], calibration["present"]) == (
            True, 34, 17)
        assert calibration["threshold_for_calibrated"] == detector["threshold"]
        cameras = {c["camera"]: c for c in calibration["per_camera"]}
        assert cameras[KERB]["own_fit"] is True and cameras[KERB]["verdicts"] == 30
        # Four verdicts fit nothing: the lane takes the detector's threshold.
        assert (cameras[LANE]["own_fit"], cameras[LANE]["enough"]) == (False, False)
        assert cameras[LANE]["threshold_for_calibrated"] == detector["threshold"]


def test_accuracy_shows_the_calibrated_probability_beside_the_raw_threshold(api):
    body = api.ok("/accuracy", {**calibration_scope(threshold=80), "detector": NARROW})
    assert body["calibration"]["enough"] is True
    # 80 on the narrow scale is past every score it gives: a person, surely.
    assert body["at_threshold"]["calibrated"] > 0.99
    at_twenty = next(p for p in body["curve"] if p["threshold"] == 20)
    assert 0.05 < at_twenty["calibrated"] < 0.95


def test_too_few_verdicts_say_so_and_fall_back_to_the_raw_score(api):
    body = api.ok("/accuracy/detectors", {**calibration_scope(calibrated=0.9),
                                          "camera": [LANE]})
    for detector in body["detectors"]:
        assert detector["calibration"]["enough"] is False
        assert detector["threshold"] == 90.0  # the raw score standing in: 100 x 0.9
        assert detector["at_threshold"]["calibrated"] is None


def sample_page(api: Api, cursor: str | None = None, limit: int = 10) -> dict[str, Any]:
    return api.ok("/review-queue", {"label": SAMPLED_LABEL, "camera": PATH, "since": SINCE,
                                    "until": UNTIL, "mode": "sample", "seed": 7,
                                    "limit": limit, **({"cursor": cursor} if cursor else {})})


def estimates(api: Api) -> dict[str, Any]:
    body = api.ok("/accuracy", {"label": SAMPLED_LABEL, "camera": PATH, "since": SINCE,
                                "until": UNTIL, "detector": WIDE, "threshold": 90})
    return {estimate["source"]: estimate for estimate in body["recall_estimates"]}


def test_a_random_sample_of_30_estimates_the_true_recall_where_priority_reviews_do_not(api):
    by_key = {shot.key: shot for shot in SHOTS if shot.label == SAMPLED_LABEL}
    # Reviews the usual way go where the detector disagrees with people: its misses.
    misses = [shot for shot in by_key.values() if shot.truth and (shot.score or 0) < 90]
    for shot in misses + [shot for shot in by_key.values() if shot.score == 95.0][:4]:
        api.judge(shot, sampled=False)
    biased = estimates(api)["all"]
    assert biased["note"] == "from all reviews: biased toward disagreements"
    assert (biased["recall"]["successes"], biased["recall"]["count"]) == (4, 12)
    assert biased["recall"]["high"] < TRUE_RECALL
    assert estimates(api)["sample"]["verdicts"] == 0

    first = sample_page(api)
    assert first["mode"] == "sample"
    assert [item["object_key"] for item in sample_page(api)["items"]] == [
        item["object_key"] for item in first["items"]]  # a stable order
    drawn, cursor = [], None
    for _ in range(3):
        page = sample_page(api, cursor)
        drawn += page["items"]
        cursor = page["next_cursor"]
    keys = [item["object_key"] for item in drawn]
    assert len(set(keys)) == 30 and set(keys) <= set(by_key)
    assert {item["reason"] for item in drawn} == {"random sample"}
    # The sample takes images no detector gave the label (12 of the 40: at least 2 of 30).
    assert sum(item["label_confidence"] is None for item in drawn) >= 2
    for key in keys:
        api.judge(by_key[key], sampled=True)

    sample = estimates(api)["sample"]
    assert sample["note"] == "from the random sample: unbiased"
    assert sample["verdicts"] == 30
    truly = sum(by_key[key].truth for key in keys)
    assert sample["recall"]["count"] == truly
    assert sample["recall"]["low"] <= TRUE_RECALL <= sample["recall"]["high"]
    # What the sample judged leaves it: the ten left are the rest of the 40.
    rest = sample_page(api, limit=50)["items"]
    assert {item["object_key"] for item in rest} == set(by_key) - set(keys)


def test_a_sampled_verdict_is_kept_in_the_table_and_stays_sampled_when_judged_again(api):
    shot = next(shot for shot in SHOTS if shot.label == SAMPLED_LABEL and shot.minute == 39)
    assert api.judge(shot, sampled=True)["sampled"] is True
    again = api.judge(shot, sampled=False, present=not shot.truth)
    assert (again["sampled"], again["present"]) == (True, not shot.truth)
    item = aws_client(api.env, "dynamodb").get_item(
        TableName=api.env["VERDICT_TABLE"], ConsistentRead=True,
        Key={"object_key": {"S": shot.key}, "label": {"S": SAMPLED_LABEL}})["Item"]
    assert item["sampled"] == {"BOOL": True}
    reviews = api.ok(f"/images/{shot.key}")["reviews"]
    assert [(r["label"], r["sampled"]) for r in reviews] == [(SAMPLED_LABEL, True)]
    api.judge(shot, sampled=True)  # as it was, for the estimate's test if it runs after


def test_the_pages_compare_at_one_calibrated_probability_and_review_a_random_sample(api):
    path = (f"/ui/accuracy?label={CALIBRATED_LABEL}&camera={KERB}&threshold=50"
            "&calibrated=0.9&window=all")
    with signed_in_page(api.url, path, KEY) as (page, errors):
        _check_calibrated_comparison(page, api)
        page.goto(f"/ui/accuracy?label={SAMPLED_LABEL}&camera={PATH}&threshold=90&window=all")
        expect(page.get_by_test_id("recall-estimates")).to_contain_text(
            "Recall from the random sample: unbiased: ")
        expect(page.get_by_test_id("recall-estimates")).to_contain_text(
            "Recall from all reviews: biased toward disagreements: ")
        _review_one_from_the_sample(page, api)
        assert errors == []


def _check_calibrated_comparison(page: Page, api: Api) -> None:
    body = api.ok("/accuracy/detectors", {**calibration_scope(calibrated=0.9), "camera": KERB})
    for detector in body["detectors"]:
        one = page.locator(f'[data-testid="detector-accuracy"][data-detector='
                           f'"{detector["detector"]}"]')
        cells = one.get_by_test_id("detector-table").locator("tbody td")
        # Threshold, ..., Calibrated: each its own raw threshold for the same probability.
        expect(cells.nth(0)).to_have_text(str(round(detector["threshold"], 2)))
        expect(cells.nth(9)).to_have_text("calibrated p 90.0%")
        expect(one.get_by_test_id("calibration")).to_contain_text(
            "Calibrated on 30 verdicts, 15 with the label, 15 without")
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text("calibrated p ")


def _review_one_from_the_sample(page: Page, api: Api) -> None:
    left = len(sample_page(api, limit=50)["items"])
    page.goto(f"/ui/review?label={SAMPLED_LABEL}&camera={PATH}&reviewer=tester&window=all")
    page.get_by_label("Order").select_option("sample")
    expect(page.get_by_test_id("queue-reason")).to_have_text(
        "Why: drawn at random: counts in the unbiased recall estimate")
    # The page counts what the api says was reviewed in scope: one more after this verdict.
    before = api.ok("/accuracy", {"label": SAMPLED_LABEL, "camera": PATH})["reviewed"]
    count = page.get_by_test_id("reviewed-count")
    expect(count).to_have_text(f"{before} reviewed")
    page.keyboard.press("y")
    expect(count).to_have_text(f"{before + 1} reviewed")
    assert len(sample_page(api, limit=50)["items"]) == left - 1
