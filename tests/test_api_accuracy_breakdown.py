"""Where and when detectors miss, and what a threshold costs, through the real servers:
labellings written by the real graph-writer into ArcadeDB, verdicts through the api, then
/accuracy/breakdown, /accuracy/costs and /accuracy/detectors read back.

The images sit on dates no other test uses (March 2009) under this run's label and
cameras, so every count is exact. The gate camera is on UTC, the yard on +05:00 (its hours
are its own clock's).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from labelgraph_contract import DetectedLabel, ImageLabeled, captured_fields, labelling_event_id
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import publish_events, signed_in_page

pytestmark = pytest.mark.stack

RUN = uuid.uuid4().hex[:8]
KEY = f"key-{RUN}"
LABEL = f"Person{RUN}"
GATE, YARD = f"gate-{RUN}", f"yard-{RUN}"
CLOCKS = {GATE: UTC, YARD: timezone(timedelta(hours=5))}
SSD, HOG, STAND_IN = "ssd-mobilenet-v2-coco", "opencv-hog", "rekognition-stand-in"
DAY = (2009, 3, 10)
SINCE, UNTIL = "2009-03-10T00:00:00+00:00", "2009-03-12T00:00:00+00:00"  # two days


@dataclass(frozen=True)
class Shot:
    name: str
    camera: str
    hour: int  # on the camera's clock
    truth: bool | None  # None: nobody reviewed it
    ssd: float | None  # the SSD's confidence of the label; None: it did not give it
    ssd_version: str = "1.0"

    def key(self) -> str:
        return f"alarms/{self.camera}/{RUN}/{self.name}.jpg"

    def captured(self) -> datetime:
        return datetime(*DAY, self.hour, int(self.name[1:]), tzinfo=CLOCKS[self.camera])


SHOTS = [
    # The gate at night (hour 2): two of four people missed at 90.
    *(Shot(f"n{i}", GATE, 2, True, c) for i, c in enumerate((95.0, 40.0, None, 92.0))),
    # The gate by day (hour 14), after the SSD's upgrade: every person found, one false alarm.
    *(Shot(f"d{i}", GATE, 14, True, c, "2.0") for i, c in enumerate((97.0, 96.0, 91.0, 93.0))),
    Shot("d8", GATE, 14, False, None, "2.0"),
    Shot("d9", GATE, 14, False, 95.0, "2.0"),
    # The yard at 10 on its clock (05 UTC).
    *(Shot(f"y{i}", YARD, 10, True, c) for i, c in enumerate((99.0, 50.0, 98.0))),
    Shot("y5", YARD, 10, False, None),
    # Unreviewed gate images: alarms at 90, none at 91.
    *(Shot(f"u{i}", GATE, 15, None, 90.5, "2.0") for i in range(6)),
]


def events() -> list[ImageLabeled]:
    made = []
    for shot in SHOTS:
        ssd = {"Plant": 50.0, **({LABEL: shot.ssd} if shot.ssd is not None else {})}
        hog = {LABEL: 80.0} if shot.truth else {}
        # The stand-in has no rule for these photographs: it labels each with nothing.
        for detector, labels, version in ((SSD, ssd, shot.ssd_version), (HOG, hog, "4.9"),
                                          (STAND_IN, {}, "stub")):
            identity = dict(bucket="security-alarms", object_key=shot.key(), image_etag="e1",
                            detector=detector, model_version=version)
            made.append(ImageLabeled.model_validate(dict(
                event_id=labelling_event_id(**identity), **identity, camera=shot.camera,
                **captured_fields(shot.captured()), labeled_at=datetime.now(UTC),
                labels=[DetectedLabel(name=name, confidence=value)
                        for name, value in labels.items()])))
    return made


@dataclass
class Api:
    url: str

    def ok(self, path: str, params: Any = None) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, headers={"X-API-Key": KEY},
                             timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def api(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    topic = f"breakdown-{RUN}"
    written = events()
    asyncio.run(publish_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], topic, written,
                               partitions=2))
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("breakdown-logs"),
                                extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"breakdown-{RUN}",
        "GRAPH_WRITER_SESSION_TIMEOUT_MS": "2000", "GRAPH_WRITER_HEARTBEAT_INTERVAL_MS": "500",
        "API_KEYS": KEY})
    try:
        services.start(names=("graph-writer", "api"))
        api = Api(services.api_url)
        wait_for(lambda: _written(api) == len(SHOTS))
        for shot in SHOTS:
            if shot.truth is not None:
                response = httpx.put(f"{api.url}/verdicts", headers={"X-API-Key": KEY},
                                     json={"object_key": shot.key(), "label": LABEL,
                                           "present": shot.truth, "reviewer": "ann"}, timeout=30)
                assert response.status_code == 200, response.text
        yield api
    finally:
        services.stop()


def _written(api: Api) -> int:
    """Images whose three labellings are all in the graph."""
    response = httpx.get(f"{api.url}/images", headers={"X-API-Key": KEY}, timeout=30,
                         params={"camera": [GATE, YARD], "limit": 100})
    if response.status_code == 422:  # a camera not written yet is an unknown camera
        return 0
    assert response.status_code == 200, response.text
    return sum(len(item["detectors"]) == 3 for item in response.json()["items"])


def scope(**more: Any) -> dict[str, Any]:
    return {"label": LABEL, "camera": [GATE, YARD], "since": SINCE, "until": UNTIL, **more}


def tally(slice_: dict[str, Any]) -> tuple[int, int, int, int]:
    at = slice_["at_threshold"]
    return (at["true_positives"], at["false_positives"], at["false_negatives"],
            at["true_negatives"])


def test_the_breakdown_shows_misses_by_camera_hour_grid_period_and_version(api):
    body = api.ok("/accuracy/breakdown", scope(threshold=90))
    assert body["reviewed"] == 14
    ssd = next(d for d in body["detectors"] if d["detector"] == SSD)
    assert {(s["camera"], s["hour"]): tally(s) for s in ssd["by_camera_hour"]} == {
        (GATE, 2): (2, 0, 2, 0), (GATE, 14): (4, 1, 0, 1), (YARD, 10): (2, 0, 1, 1)}
    assert {s["hour"]: tally(s) for s in ssd["by_hour"]} == {
        2: (2, 0, 2, 0), 10: (2, 0, 1, 1), 14: (4, 1, 0, 1)}
    assert {s["camera"]: tally(s) for s in ssd["by_camera"]} == {
        GATE: (6, 1, 2, 1), YARD: (2, 0, 1, 1)}
    # The upgrade is its own row: version 2.0 found every person on the gate by day.
    assert {s["model_version"]: tally(s) for s in ssd["by_version"]} == {
        "1.0": (4, 0, 3, 1), "2.0": (4, 1, 0, 1)}
    assert {(s["camera"], s["period"]): tally(s) for s in ssd["by_period"]} == {
        (GATE, "night"): (2, 0, 2, 0), (GATE, "day"): (4, 1, 0, 1), (YARD, "day"): (2, 0, 1, 1)}
    hog = next(d for d in body["detectors"] if d["detector"] == HOG)
    assert {s["camera"]: tally(s) for s in hog["by_camera"]} == {
        GATE: (0, 0, 8, 2), YARD: (0, 0, 3, 1)}


def test_night_hours_are_the_users_per_camera(api):
    body = api.ok("/accuracy/breakdown", scope(night=["20-6", f"{YARD}:8-11"],
                                               detector=SSD))
    assert body["night"] == {"default": {"start": 20, "end": 6},
                             "cameras": {YARD: {"start": 8, "end": 11}}}
    (ssd,) = body["detectors"]
    assert {(s["camera"], s["period"]): tally(s) for s in ssd["by_period"]} == {
        (GATE, "night"): (2, 0, 2, 0), (GATE, "day"): (4, 1, 0, 1), (YARD, "night"): (2, 0, 1, 1)}


def test_a_detector_that_labelled_nothing_in_scope_is_named_and_left_out(api):
    for path in ("/accuracy/breakdown", "/accuracy/detectors", "/accuracy/costs"):
        body = api.ok(path, scope())
        assert body["silent_detectors"] == [{"detector": STAND_IN, "images": 14}], path
        assert sorted(d["detector"] for d in body["detectors"]) == [HOG, SSD], path
    # Without the stand-in, the comparison is over all 14 images the other two labelled.
    assert api.ok("/accuracy/detectors", scope())["compared"] == 14


def test_every_rate_has_its_count_and_a_wilson_interval(api):
    body = api.ok("/accuracy/breakdown", scope(detector=SSD))
    night = next(s for s in body["detectors"][0]["by_camera_hour"] if s["hour"] == 2)
    assert night["at_threshold"]["recall_interval"] == {
        "successes": 2, "count": 4, "value": 0.5, "low": pytest.approx(0.1500, abs=1e-4),
        "high": pytest.approx(0.8500, abs=1e-4), "enough": False}
    gate = next(s for s in body["detectors"][0]["by_camera"] if s["camera"] == GATE)
    recall = gate["at_threshold"]["recall_interval"]
    assert (recall["successes"], recall["count"], recall["enough"]) == (6, 8, True)
    assert recall["low"] == pytest.approx(0.4093, abs=1e-4)
    assert recall["high"] == pytest.approx(0.9285, abs=1e-4)
    overall = api.ok("/accuracy", scope(threshold=90))["at_threshold"]
    assert overall["precision_interval"]["count"] == 9  # 8 right + 1 false alarm (any detector)


def test_alarms_a_day_and_the_threshold_for_a_target_recall_per_camera(api):
    body = api.ok("/accuracy/costs", scope(detector=SSD, threshold=90, target_recall=75))
    assert body["days"] == 2
    (ssd,) = body["detectors"]
    gate = next(c for c in ssd["per_camera"] if c["camera"] == GATE)
    # At 90: 7 reviewed and 6 unreviewed gate images in two days.
    assert gate["alarms_per_day"] == 6.5
    assert tally(gate) == (6, 1, 2, 1)
    # 75% of the gate's 8 people is 6: found down to 91, where the 90.5s no longer alarm.
    assert gate["target"] == {"reached": True, "threshold": 91.0, "best_recall": 7 / 8,
                              "alarms_per_day": 3.5}
    yard = next(c for c in ssd["per_camera"] if c["camera"] == YARD)
    assert (yard["alarms_per_day"], yard["target"]["threshold"]) == (1.0, 50.0)
    assert ssd["all_cameras"]["alarms_per_day"] == 7.5
    point = next(p for p in ssd["curve"] if p["threshold"] == 90)
    assert (point["recall"], point["alarms_per_day"]) == (8 / 11, 7.5)
    assert next(p for p in ssd["curve"] if p["threshold"] == 0)["alarms_per_day"] == 8.5


def test_the_accuracy_page_shows_the_grid_the_costs_and_who_was_left_out(api):
    path = f"/ui/accuracy?label={LABEL}&camera={GATE}&threshold=90&target_recall=75&window=all"
    with signed_in_page(api.url, path, KEY) as (page, errors):
        _check_accuracy_page(page)
        assert errors == []


def _check_accuracy_page(page: Page) -> None:
    expect(page.get_by_test_id("silent-detectors")).to_contain_text(
        f"{STAND_IN} labelled nothing at all on the 10 reviewed images in scope")
    ssd = page.locator(f'[data-testid="detector-slices"][data-detector="{SSD}"]')
    cells = ssd.get_by_test_id("recall-grid").locator("tbody tr").filter(
        has_text=GATE).locator("td")
    expect(cells).to_have_count(25)
    # Camera, then hours 0-23: fewer than five people reviewed in an hour shows n/m.
    expect(cells.nth(1 + 2)).to_have_text("2/4")
    expect(cells.nth(1 + 14)).to_have_text("4/4")
    expect(cells.nth(1 + 10)).to_have_text("")
    versions = ssd.get_by_test_id("version-table").locator("tbody tr")
    expect(versions.filter(has_text="2.0").locator("td").nth(1)).to_have_text("6")
    costs = page.locator(f'[data-testid="detector-costs"][data-detector="{SSD}"]')
    # Camera, Recall, Precision, Alarms a day, Threshold for 75%, Alarms a day there; over
    # all time the captures' span is under a day, so the alarms are a day's.
    gate = costs.get_by_test_id("cost-table").locator("tbody tr").filter(has_text=GATE)
    for column, value in enumerate([GATE, "75.0% (6/8; 95%: 40.9%–92.9%)",
                                    "85.7% (6/7; 95%: 48.7%–97.4%)", "13.0", "91", "7.0"]):
        expect(gate.locator("td").nth(column)).to_have_text(value)
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text(
        "recall 75.0% (6/8; 95%")
    lines = page.locator(".chart").nth(2).evaluate(
        "box => echarts.getInstanceByDom(box).getOption().series.map((s) => s.name)")
    assert lines == [HOG, SSD]  # alarms a day against recall, one line per detector


def test_asking_only_for_silent_detectors_compares_none_rather_than_all(api):
    body = api.ok("/accuracy/detectors", scope(detector=STAND_IN))
    assert body["silent_detectors"] == [{"detector": STAND_IN, "images": 14}]
    assert (body["detectors"], body["compared"]) == ([], 0)
