"""The pages in a real browser (Debian's Chromium driven by Playwright) against the api on
the embedded stack, over a graph written by the real graph-writer from known events.

Every expected number is computed here from the events this module generates. Screenshots
of each page go to test-output/pages/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from playwright.sync_api import ConsoleMessage, Locator, Page, Route, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    labelling_event_id,
)
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_devstack.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    aws_client,
    draw_scene,
    publish_events,
)

pytestmark = pytest.mark.stack

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "pages"
# `make screenshots` names a folder here (docs/screenshots): the README's picture of each
# page goes there too, by the name of the shot that shows the page best.
README_SCREENSHOTS = os.environ.get("LABELGRAPH_README_SCREENSHOTS")
README_SHOTS = {"overview": "overview", "confidence": "confidence", "images-boxes": "images",
                "review-disagreement": "review", "accuracy-detectors": "accuracy"}
# The cameras' clock, as the demo's cameras keep it; the reader's is another.
CAMERA_ZONE = ZoneInfo("America/Los_Angeles")
READER_ZONE = "Asia/Tokyo"
API_KEY = secrets.token_hex(16)
RUN = uuid.uuid4().hex[:6]
LABEL = f"Visitor{RUN}"
CAM_A, CAM_B = f"pagesa{RUN}", f"pagesb{RUN}"
# (camera, minutes ago, confidence of LABEL or None when absent, truly present)
IMAGES = [
    (CAM_A, 10, 99.0, True),
    (CAM_A, 20, 97.0, True),
    (CAM_A, 30, 50.0, True),
    (CAM_A, 40, None, True),
    (CAM_B, 15, 96.0, True),
    (CAM_B, 25, 92.0, False),
    (CAM_B, 35, None, False),
]
# Names an attacker controls: the camera segment of an object key, a detector's label names
# and the key itself. Each runs script (sets window.__xss or opens a dialog) if a page
# treats it as HTML, in an element, an attribute or a URL.
HOSTILE_CAMERA = f"<img src=x onerror=window.__xss='camera'>{RUN}"
HOSTILE_CAMERA_2 = f"\"><svg onload=window.__xss='attribute'>{RUN}"
HOSTILE_LABEL = f"<img src=x onerror=alert('label')>{RUN}"
HOSTILE_LABEL_2 = f"javascript:window.__xss='url'//{RUN}"
HOSTILE_FILE = "<svg onload=window.__xss='key'>"
# (camera, minutes ago, {label: confidence}, truly present) all within the last 24 hours.
HOSTILE_IMAGES = [
    (HOSTILE_CAMERA, 30, {HOSTILE_LABEL: 97.0, HOSTILE_LABEL_2: 91.0}, True),
    (HOSTILE_CAMERA, 300, {HOSTILE_LABEL: 64.0}, True),
    (HOSTILE_CAMERA_2, 45, {HOSTILE_LABEL: 93.0, HOSTILE_LABEL_2: 55.0}, False),
]
# A box (left, top, width, height, confidence: Rekognition's normalised form) for each
# hostile label of the first hostile image: their captions are hostile names too.
Box = tuple[float, float, float, float, float]
HOSTILE_BOXES: dict[str, list[Box]] = {HOSTILE_LABEL: [(0.05, 0.1, 0.4, 0.5, 97.0)],
                                       HOSTILE_LABEL_2: [(0.5, 0.45, 0.3, 0.35, 91.0)]}


# Two detectors on the same images of their own camera and label, for the side-by-side
# pages: (minutes ago, {detector: confidence or None for labelled without it}, truly present).
AWS, SSD = "aws-rekognition", "ssd-mobilenet-v2-coco"
DUO_LABEL = f"Walker{RUN}"
CAM_C = f"pagesc{RUN}"
DUO_IMAGES: list[tuple[int, dict[str, float | None], bool]] = [
    (12, {AWS: 98.0, SSD: 40.0}, True),   # AWS flags it at 90, SSD does not: a disagreement
    (22, {AWS: None, SSD: 85.0}, True),   # neither flags it at 90
    (32, {AWS: 95.0, SSD: 91.0}, False),  # both flag it
]
# What each detector located of DUO_LABEL on the disagreement (12 minutes ago): one box in
# the top right corner and a thin one on the bottom edge (their captions must not run off
# the image), two below 90 (drawn only on asking).
DUO_BOXES: dict[str, list[Box]] = {
    AWS: [(0.1, 0.2, 0.3, 0.5, 98.0), (0.88, 0.0, 0.12, 0.3, 91.5),
          (0.02, 0.97, 0.2, 0.03, 30.0)],
    SSD: [(0.15, 0.125, 0.25, 0.6, 40.0)]}


def boxes_from(threshold: float, boxes: dict[str, list[Box]]) -> dict[str, list[Box]]:
    """The boxes a page draws at first: those at or above the threshold, by detector."""
    kept = {name: [box for box in found if box[4] >= threshold] for name, found in boxes.items()}
    return {name: found for name, found in kept.items() if found}


# One detector's confidences on both sides of 90, on a camera and label of their own: a
# rounded bucket would count four images at or above 90, exactly two are. The last image
# the detector labelled without the label.
EDGE_LABEL = f"Edge{RUN}"
CAM_D = f"pagesd{RUN}"
EDGE_CONFIDENCES = (89.52, 89.96, 90.0, 95.0, None)


def edge_events(now: datetime) -> list[ImageLabeled]:
    start = len(IMAGES) + len(HOSTILE_IMAGES) + len(DUO_IMAGES)
    return [_event(now, index, CAM_D, 50 + index,
                   {"Plant": 70.0, **({EDGE_LABEL: value} if value is not None else {})},
                   detector=SSD)
            for index, value in enumerate(EDGE_CONFIDENCES, start=start)]


def duo_events(now: datetime) -> list[ImageLabeled]:
    start = len(IMAGES) + len(HOSTILE_IMAGES)
    return [_event(now, index, CAM_C, minutes,
                   {"Plant": 70.0, **({DUO_LABEL: value} if value is not None else {})},
                   detector=detector,
                   boxes={DUO_LABEL: DUO_BOXES[detector]} if minutes == 12 else None)
            for index, (minutes, confidences, _) in enumerate(DUO_IMAGES, start=start)
            for detector, value in confidences.items()]


def make_events(now: datetime) -> list[ImageLabeled]:
    events = []
    for index, (camera, minutes, confidence, _) in enumerate(IMAGES):
        labels = {LABEL: confidence} if confidence is not None else {}
        events.append(_event(now, index, camera, minutes, {**labels, "Plant": 80.0}))
    for index, (camera, minutes, labels, _) in enumerate(HOSTILE_IMAGES, start=len(IMAGES)):
        events.append(_event(now, index, camera, minutes, labels, file_name=HOSTILE_FILE,
                             boxes=HOSTILE_BOXES if index == len(IMAGES) else None))
    return events


def _event(now: datetime, index: int, camera: str, minutes: int, labels: dict[str, float],
           file_name: str = "", detector: str = AWS,
           boxes: dict[str, list[Box]] | None = None) -> ImageLabeled:
    captured = (now - timedelta(minutes=minutes)).astimezone(CAMERA_ZONE).replace(microsecond=0)
    identity = dict(bucket="security-alarms",
                    object_key=f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/{file_name}"
                               f"{camera}_{captured:%Y%m%d-%H%M%S}_{index}.jpg",
                    image_etag=f"e{index}", detector=detector, model_version="3.0")
    return ImageLabeled.model_validate(dict(
        event_id=labelling_event_id(**identity), **identity, camera=camera,
        **captured_fields(captured), labeled_at=now,
        labels=[DetectedLabel.model_validate({
            "name": name, "confidence": value, "instances": [
                {"bounding_box": {"left": left, "top": top, "width": width, "height": height},
                 "confidence": confidence}
                for left, top, width, height, confidence in (boxes or {}).get(name, [])]})
            for name, value in labels.items()]))




@pytest.fixture(scope="module")
def site(stack, tmp_path_factory) -> Any:
    """The api and graph-writer over this module's events; yields the api's URL."""
    env = stack.env
    events = make_events(datetime.now(UTC))
    s3 = aws_client(env, "s3")
    duo = duo_events(datetime.now(UTC)) + edge_events(datetime.now(UTC))
    truths = [present for *_, present in IMAGES + HOSTILE_IMAGES]
    truths += [present for *_, present in DUO_IMAGES for _ in range(2)]  # two detectors each
    truths += [value is not None for value in EDGE_CONFIDENCES]
    for event, present in zip(events + duo, truths, strict=True):
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=event.object_key,
                      Body=draw_scene(present, seed=event.object_key), ContentType="image/jpeg")
    topic = f"pages-{RUN}"
    asyncio.run(publish_events(env["KAFKA_BOOTSTRAP_SERVERS"], topic, events + duo,
                               partitions=2))
    services = ServiceProcesses(env, tmp_path_factory.mktemp("pages-logs"), extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"pages-{RUN}",
        # The S3 notifications of the uploads above would reach a labeler; none runs here.
        "API_KEYS": API_KEY})
    services.start(names=("graph-writer", "api"))
    try:
        _wait_until_written(services.api_url,
                            len(events) + len(DUO_IMAGES) + len(EDGE_CONFIDENCES))
        yield services.api_url, events + duo
    finally:
        services.stop()


def _wait_until_written(api_url: str, expected: int) -> None:
    cameras = [CAM_A, CAM_B, HOSTILE_CAMERA, HOSTILE_CAMERA_2, CAM_C, CAM_D]

    def written() -> bool:
        answer = httpx.get(f"{api_url}/images", params={"camera": cameras, "limit": 100},
                           headers={"X-API-Key": API_KEY}, timeout=10)
        if answer.status_code == 422:  # a camera not written yet is an unknown camera
            return False
        both = [item for item in answer.json()["items"] if item["camera"] != CAM_C
                or len(item["detectors"]) == 2]
        return len(both) == expected

    wait_for(written, timeout=60, interval=0.25,
             what=f"the graph-writer writing {expected} images")


@pytest.fixture(scope="module")
def browser() -> Any:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console_errors() -> list[str]:
    """What the page fixture recorded; a test that provokes an error takes it out here."""
    return []


# site first: it runs asyncio, which Playwright's loop forbids.
@pytest.fixture
def page(site, browser, console_errors) -> Any:
    """A signed-in page that records console errors; the test fails on any."""
    api_url, _ = site
    # The reader's clock is never the cameras' (America/Los_Angeles): a time converted to
    # the browser's zone shows.
    context = browser.new_context(base_url=api_url, viewport={"width": 1280, "height": 900},
                                  timezone_id=READER_ZONE)
    tab = context.new_page()
    errors = console_errors
    tab.on("console", lambda m: _record_error(m, errors))
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    tab.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    yield tab
    context.close()
    assert errors == [], f"console errors: {errors}"


def _record_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def sign_in(page: Page) -> None:
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Sign in").click()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if README_SCREENSHOTS and name in README_SHOTS:
        save_small(page.screenshot(), Path(README_SCREENSHOTS) / f"{README_SHOTS[name]}.png")


def save_small(png: bytes, path: Path) -> None:
    """The viewport's picture in 256 colours, optimised: a page is flat colour and a few
    photographs, small enough to commit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(path, optimize=True)


def expected_above(threshold: float, cameras: tuple[str, ...] = (CAM_A, CAM_B)) -> int:
    return sum(1 for camera, _, confidence, _ in IMAGES
               if camera in cameras and confidence is not None and confidence >= threshold)


def test_overview_asks_for_the_key_then_shows_sightings_per_camera(page):
    page.goto(f"/ui/overview?label={LABEL}&window=2h&min_confidence=90")
    sign_in(page)
    expect(page.get_by_test_id("summary")).to_contain_text(f"{expected_above(90)} images with")
    rows = page.get_by_test_id("per-camera").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=CAM_A)).to_contain_text(str(expected_above(90, (CAM_A,))))
    shoot(page, "overview")
    page.get_by_label("Min confidence").fill("98")
    page.get_by_label("Min confidence").press("Tab")  # leaving the field fires its change
    expect(page.get_by_test_id("summary")).to_contain_text(f"{expected_above(98)} images with")
    # Click through from a camera to the images behind it.
    page.get_by_test_id("per-camera").get_by_role("link", name=CAM_A).click()
    page.wait_for_url("**/ui/images?**")
    expect(page.get_by_test_id("gallery").locator("figure")).to_have_count(
        expected_above(98, (CAM_A,)))


def _histogram(api_url: str, **params: Any) -> dict[str, Any]:
    """What the api answers the confidence page's question."""
    return httpx.get(f"{api_url}/confidence-histogram", params=params,
                     headers={"X-API-Key": API_KEY}, timeout=10).json()


# The confidence page's chart: the first series is the bar of the images without the label.
WITHOUT_BAR = "box => echarts.getInstanceByDom(box).getOption().series[0].data[0]"


def test_confidence_threshold_line_splits_the_images_and_shows_those_without_the_label(
        site, page):
    api_url, _ = site
    page.goto(f"/ui/confidence?label={LABEL}&window=all")
    sign_in(page)
    counts = page.get_by_test_id("threshold-counts")
    labelled = expected_above(0)
    # Over every camera, the other modules' images are in scope too: the api says how many.
    without = _histogram(api_url, label=LABEL)["without_label"]
    assert without >= sum(1 for image in IMAGES if image[2] is None) > 0
    expect(counts).to_have_text(f"{expected_above(90)} images at or above 90, "
                                f"{labelled - expected_above(90)} below, "
                                f"{without} without the label")
    assert page.locator(".chart").evaluate(WITHOUT_BAR) == without
    page.get_by_test_id("threshold").fill("98")
    expect(counts).to_have_text(f"{expected_above(98)} images at or above 98, "
                                f"{labelled - expected_above(98)} below, "
                                f"{without} without the label")
    shoot(page, "confidence")

    page.get_by_label("Camera").select_option(CAM_A)  # one camera: every number known here
    cam_a = [confidence for camera, _, confidence, _ in IMAGES if camera == CAM_A]
    expect(counts).to_contain_text(f", {cam_a.count(None)} without the label")
    assert _histogram(api_url, label=LABEL, camera=CAM_A)["without_label"] == cam_a.count(None)

    # With a detector, the images that detector labelled without the label.
    for detector in (AWS, SSD):
        page.goto(f"/ui/confidence?label={DUO_LABEL}&camera={CAM_C}&detector={detector}"
                  "&window=all")
        missing = sum(1 for _, confidences, _ in DUO_IMAGES if confidences[detector] is None)
        expect(counts).to_contain_text(f", {missing} without the label")
        assert _histogram(api_url, label=DUO_LABEL, camera=CAM_C,
                          detector=detector)["without_label"] == missing


def test_confidence_page_states_exact_counts_at_or_above_the_threshold(page):
    """Images at 89.52 and 89.96 are below 90 (and in the 89 bar), whatever a bucket says."""
    page.goto(f"/ui/confidence?label={EDGE_LABEL}&camera={CAM_D}&detector={SSD}&window=all")
    sign_in(page)
    counts = page.get_by_test_id("threshold-counts")
    labelled = [value for value in EDGE_CONFIDENCES if value is not None]
    for threshold in (90, 89, 95, 96):
        page.get_by_test_id("threshold").fill(str(threshold))
        above = sum(1 for value in labelled if value >= threshold)
        expect(counts).to_have_text(f"{above} images at or above {threshold}, "
                                    f"{len(labelled) - above} below, 1 without the label")
    # Each bar stands inside its bucket [n, n + 1) (the middle, the images, the bucket's
    # lower bound): none straddles the threshold's line.
    bars = page.locator(".chart").evaluate(
        "box => echarts.getInstanceByDom(box).getOption().series[1].data")
    assert bars == [[89.5, 2, 89], [90.5, 1, 90], [95.5, 1, 95]]
    tooltips = hover_every_chart_item(page)[0][1:]  # after the bar of those without
    assert [" ".join(text.split()) for text in tooltips] == [
        "with the label from 89 images 2", "with the label from 90 images 1",
        "with the label from 95 images 1"]


def test_gallery_filters_by_camera_and_label_and_opens_full_size(page):
    page.goto(f"/ui/images?camera={CAM_A}&window=all")
    sign_in(page)
    cards = page.get_by_test_id("gallery").locator("figure")
    expect(cards).to_have_count(sum(1 for image in IMAGES if image[0] == CAM_A))
    page.get_by_label("Label").fill(LABEL)
    page.get_by_label("Label").press("Tab")
    expect(cards).to_have_count(expected_above(0, (CAM_A,)))
    expect(cards.first).to_contain_text(LABEL)
    cards.first.locator("img").click()
    expect(page.locator("dialog.lightbox img")).to_be_visible()
    assert page.locator("dialog.lightbox img").evaluate("img => img.naturalWidth") == 320
    shoot(page, "images")


def test_review_by_keyboard_changes_the_accuracy_figures(page):
    page.goto(f"/ui/accuracy?label={LABEL}&threshold=90&window=all")
    sign_in(page)
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text("0 reviewed images")

    page.goto(f"/ui/review?label={LABEL}&camera={CAM_A}&reviewer=tester")
    image = page.locator("img.review-image")
    seen: list[str] = []
    for count in range(1, sum(1 for i in IMAGES if i[0] == CAM_A) + 1):
        expect(image).to_have_attribute("data-key", re.compile(rf"^alarms/{CAM_A}/"))
        key = image.get_attribute("data-key")
        assert key not in seen
        seen.append(key)
        page.keyboard.press("y")  # every CAM_A image truly shows a visitor
        expect(page.get_by_test_id("reviewed-count")).to_have_text(f"{count} reviewed")
    expect(page.locator("p.question")).to_contain_text("Nothing left to review")
    shoot(page, "review")

    page.goto(f"/ui/accuracy?label={LABEL}&threshold=90&window=all")
    at_90 = [i for i in IMAGES if i[0] == CAM_A]
    tp = sum(1 for i in at_90 if i[2] is not None and i[2] >= 90)
    fn = len(at_90) - tp
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text(
        f"{len(at_90)} reviewed images; at 90: precision too few: {tp} of {tp}, "
        f"recall too few: {tp} of {len(at_90)}, false-negative rate "
        f"{fn / len(at_90) * 100:.1f}%")
    cells = page.get_by_test_id("accuracy-table").locator("tbody tr").filter(
        has_text=CAM_A).locator("td")
    # Camera, Reviewed, TP, FP, FN, TN
    for column, value in enumerate([CAM_A, len(at_90), tp, 0, fn, 0]):
        expect(cells.nth(column)).to_have_text(str(value))
    shoot(page, "accuracy")


FEW_1_OF_2 = "too few: 1 of 2"  # a rate from under five verdicts says so, no bare 50%


def test_detectors_side_by_side_on_review_gallery_and_accuracy(site, page):
    _, events = site
    in_order = dict.fromkeys(event.object_key for event in events if event.camera == CAM_C)
    keys = {minutes: key for (minutes, _, _), key in zip(DUO_IMAGES, in_order, strict=True)}
    page.goto(f"/ui/review?label={DUO_LABEL}&camera={CAM_C}&reviewer=tester")
    sign_in(page)
    image = page.locator("img.review-image")
    # The disagreement first, then the least confident: 85 (SSD only), then 95.
    for minutes, reason, verdict in ((12, "detectors disagree", "y"),
                                     (22, "least confident", "y"), (32, "least confident", "n")):
        expect(image).to_have_attribute("data-key", keys[minutes])
        expect(page.get_by_test_id("queue-reason")).to_have_text(f"Why: {reason}")
        lists = page.get_by_test_id("detector-labels").locator("[data-detector]")
        expect(lists).to_have_count(2)
        expect(lists.filter(has_text=SSD)).to_contain_text("Plant")
        if minutes == 12:
            expect(lists.filter(has_text=AWS)).to_contain_text(f"{DUO_LABEL} 98.0")
            expect(lists.filter(has_text=SSD)).to_contain_text(f"{DUO_LABEL} 40.0")
            stage = page.get_by_test_id("image-boxes")
            review_colours = assert_boxes_drawn(stage, DUO_LABEL, boxes_from(90, DUO_BOXES))
            legend = page.get_by_test_id("box-legend").locator("li")
            expect(legend.filter(has_text=AWS)).to_have_text(f"{AWS}: 2 boxes (1 below 90)")
            expect(legend.filter(has_text=SSD)).to_have_text(f"{SSD}: 0 boxes (1 below 90)")
            shoot(page, "review-disagreement")
            toggle = page.get_by_test_id("below-toggle")
            expect(toggle).to_have_text("Show 2 boxes below their threshold")
            toggle.click()
            expect(toggle).to_have_text("Hide 2 boxes below their threshold")
            assert_boxes_drawn(stage, DUO_LABEL, DUO_BOXES)
            # A detector's own threshold decides its boxes: AWS's 91.5 is below its 95.
            page.get_by_label("Per-detector thresholds").fill(f"{AWS}:95")
            page.get_by_label("Per-detector thresholds").press("Tab")
            expect(legend.filter(has_text=AWS)).to_have_text(f"{AWS}: 1 box (2 below 95)")
            expect(image).to_have_attribute("data-key", keys[minutes])
            assert_boxes_drawn(stage, DUO_LABEL, boxes_from(95, {AWS: DUO_BOXES[AWS]}))
            page.evaluate("document.activeElement.blur()")  # the keys judge, not type
        else:
            expect(page.get_by_test_id("image-boxes").locator(".box")).to_have_count(0)
        page.keyboard.press(verdict)
    expect(page.locator("p.question")).to_contain_text("Nothing left to review")

    page.goto(f"/ui/accuracy?label={DUO_LABEL}&threshold=90&thresholds={SSD}:50"
              "&target_recall=50&window=all")
    expect(page.get_by_test_id("detectors-summary")).to_have_text(
        "2 detectors compared on the 3 of 3 reviewed images that every one of them labelled")
    tables = page.get_by_test_id("detector-accuracy")
    expect(tables).to_have_count(2)
    # Threshold, Labelled, TP, FP, FN, TN, Precision, Recall, Miss rate
    for detector, row, target in (
            (AWS, ["90", "3", "1", "1", "1", "0", FEW_1_OF_2, FEW_1_OF_2, "50.0%"],
             "Finds 50% at threshold 98: precision 100.0%"),
            (SSD, ["50", "3", "1", "1", "1", "0", FEW_1_OF_2, FEW_1_OF_2, "50.0%"],
             "Finds 50% at threshold 85: precision 50.0%")):
        one = page.locator(f'[data-testid="detector-accuracy"][data-detector="{detector}"]')
        cells = one.get_by_test_id("detector-table").locator("tbody td")
        for column, value in enumerate(row):
            expect(cells.nth(column)).to_have_text(value)
        expect(one.get_by_test_id("target-recall")).to_have_text(target)
    lines = page.locator(".chart").nth(1).evaluate(
        "box => echarts.getInstanceByDom(box).getOption().series.map((s) => s.name)")
    assert lines == [AWS, SSD]  # one recall curve per detector on the same chart
    shoot(page, "accuracy-detectors")

    page.goto(f"/ui/images?camera={CAM_C}&window=all")
    cards = page.get_by_test_id("gallery").locator("figure")
    expect(cards).to_have_count(len(DUO_IMAGES))
    expect(cards.first).to_have_attribute("data-key", keys[12])  # the newest
    expect(cards.first.locator("[data-detector]")).to_have_count(2)
    cards.first.locator("img").click()  # full size, with both detectors' boxes from 90
    lightbox = page.locator("dialog.lightbox")
    stage = lightbox.get_by_test_id("image-boxes")
    assert assert_boxes_drawn(stage, DUO_LABEL, boxes_from(90, DUO_BOXES)) == review_colours
    shoot(page, "images-boxes")
    lightbox.get_by_test_id("below-toggle").click()  # the rest on asking; the view stays open
    expect(lightbox.get_by_test_id("below-toggle")).to_have_text("Hide 2 boxes below 90")
    assert_boxes_drawn(stage, DUO_LABEL, DUO_BOXES)
    page.keyboard.press("Escape")
    page.get_by_label("Detector").select_option(SSD)
    expect(cards.first.locator("[data-detector]")).to_have_count(1)
    expect(cards.locator(f'[data-detector="{AWS}"]')).to_have_count(0)
    cards.first.locator("img").click()  # the filtered detector's boxes alone
    assert_boxes_drawn(stage, DUO_LABEL, {})
    expect(lightbox.get_by_test_id("box-legend").locator("li")).to_have_text(
        [f"{SSD}: 0 boxes (1 below 90)"])
    lightbox.get_by_test_id("below-toggle").click()
    assert_boxes_drawn(stage, DUO_LABEL, {SSD: DUO_BOXES[SSD]})
    page.keyboard.press("Escape")
    shoot(page, "images-detectors")


def assert_boxes_drawn(stage: Locator, label: str, expected: dict[str, list[Box]]
                       ) -> dict[str, str]:
    """Each detector's boxes outline its part of the loaded image, placed in percent of it,
    captioned legibly with the label and the box's confidence, in one colour per detector;
    no other box shows. Returns each detector's colour."""
    expect(stage.locator(".box:visible")).to_have_count(
        sum(len(boxes) for boxes in expected.values()))
    image = stage.locator("img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    frame = image.bounding_box()
    assert frame is not None
    colours = {}
    for detector, boxes in expected.items():
        drawn = stage.locator(f'.box[data-detector="{detector}"]:visible')
        expect(drawn).to_have_count(len(boxes))
        for outline, (left, top, width, height, confidence) in zip(drawn.all(), boxes,
                                                                   strict=True):
            expect(outline).to_have_text(f"{label} {confidence:.1f}")
            style = outline.evaluate("box => [box.style.left, box.style.top, box.style.width,"
                                     " box.style.height]")
            assert [float(value.removesuffix("%")) for value in style] == pytest.approx(
                [left * 100, top * 100, width * 100, height * 100])
            at = outline.bounding_box()
            assert at is not None
            assert (at["x"] - frame["x"], at["y"] - frame["y"], at["width"], at["height"]) == (
                pytest.approx((left * frame["width"], top * frame["height"],
                               width * frame["width"], height * frame["height"]), abs=1.5))
            colours[detector] = outline.evaluate("box => getComputedStyle(box).borderTopColor")
            assert_caption_legible(outline.locator(".box-caption"), frame)
    assert len(set(colours.values())) == len(expected)
    return colours


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed CSS colour, "rgb(r, g, b)"."""
    channels = [int(value) / 255 for value in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def assert_caption_legible(caption: Locator, frame: dict[str, float]) -> None:
    """A caption stands wholly on the image and its text contrasts 4.5:1 with its ground."""
    at = caption.bounding_box()
    assert at is not None
    assert frame["x"] - 0.5 <= at["x"] and at["x"] + at["width"] <= frame["x"] + frame[
        "width"] + 0.5, (at, frame)
    assert frame["y"] - 0.5 <= at["y"] and at["y"] + at["height"] <= frame["y"] + frame[
        "height"] + 0.5, (at, frame)
    text, ground = caption.evaluate(
        "span => [getComputedStyle(span).color, getComputedStyle(span).backgroundColor]")
    lighter, darker = sorted((_luminance(text), _luminance(ground)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (text, ground)


# Where each item of one chart is on the page (bars at half height, heat-map cells, line
# points), from the chart's own axes.
CHART_ITEMS = """(box) => {
  const chart = echarts.getInstanceByDom(box);
  const { x: left, y: top } = box.getBoundingClientRect();
  return chart.getOption().series.flatMap((series, index) => series.data.map((item, i) => {
    const value = Array.isArray(item) ? item : [i, item];
    if (value[1] === null) return null;
    const at = series.type === 'bar' ? [value[0], value[1] / 2] : value.slice(0, 2);
    const [x, y] = chart.convertToPixel({ seriesIndex: index }, at);
    return { x: left + x, y: top + y };
  })).filter(Boolean);
}"""
# What a successful injection leaves behind: a global set, or the elements it smuggled in.
INJECTED = """() => ({ xss: window.__xss ?? null,
  elements: document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').length,
  links: [...document.querySelectorAll('a[href], img[src]')]
    .map((e) => e.getAttribute('href') ?? e.getAttribute('src'))
    .filter((url) => /^\\s*javascript:/i.test(url)).length })"""


def hover_every_chart_item(page: Page) -> list[list[str]]:
    """Move the mouse over every item of every chart; the tooltips' texts, chart by chart."""
    page.wait_for_function("[...document.querySelectorAll('.chart')].every((box) =>"
                           " echarts.getInstanceByDom(box)?.getOption()?.series?.length)")
    texts = []
    for chart in page.locator(".chart").all():
        chart.scroll_into_view_if_needed()
        tooltip = chart.locator(":scope > div").nth(1)  # ECharts' tooltip box, after the canvas
        texts.append([_hover(page, tooltip, item["x"], item["y"])
                      for item in chart.evaluate(CHART_ITEMS)])
    return texts


def _hover(page: Page, tooltip: Locator, x: float, y: float) -> str:
    # Moving again until the tooltip shows: a bar still growing in its entry animation may
    # not be under the pointer yet when it first arrives.
    for attempt in range(50):
        page.mouse.move(x, y + attempt % 2)
        if tooltip.is_visible() and tooltip.inner_text():
            return tooltip.inner_text()
        page.wait_for_timeout(100)
    raise AssertionError(f"no tooltip at ({x}, {y})")


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate(INJECTED) == {"xss": None, "elements": 0, "links": 0}


def test_hostile_names_are_shown_as_text_on_every_page_and_run_nothing(site, page):
    _, events = site
    hostile_cameras = (HOSTILE_CAMERA, HOSTILE_CAMERA_2)
    shell = page.goto(f"/ui/overview?{urlencode({'label': HOSTILE_LABEL, 'window': '24h'})}"
                      "&min_confidence=0")
    # Behind the escaping, the page's policy would stop an inline handler from running.
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    sign_in(page)
    rows = page.get_by_test_id("per-camera").locator("tbody tr")
    expect(rows).to_have_count(2)
    for camera in hostile_cameras:
        expect(rows.filter(has_text=camera)).to_have_count(1)
    expect(page.get_by_test_id("summary")).to_contain_text(HOSTILE_LABEL)
    bars, heat_map = hover_every_chart_item(page)
    cells = {(event.camera, event.captured_at.hour) for event in events
             if event.camera in hostile_cameras}
    assert sorted(bars) == sorted(f"{camera}\n{count}" for camera, count in (
        (HOSTILE_CAMERA, 2), (HOSTILE_CAMERA_2, 1))), bars
    assert sorted(heat_map) == sorted(f"{camera} {hour}:00 — 1 images" for camera, hour in cells)
    assert_nothing_ran(page)

    page.goto(f"/ui/confidence?{urlencode({'label': HOSTILE_LABEL, 'window': 'all'})}")
    labelled = [labels[HOSTILE_LABEL] for _, _, labels, _ in HOSTILE_IMAGES]
    without = _histogram(site[0], label=HOSTILE_LABEL)["without_label"]
    expect(page.get_by_test_id("threshold-counts")).to_have_text(
        f"{sum(c >= 90 for c in labelled)} images at or above 90, "
        f"{sum(c < 90 for c in labelled)} below, {without} without the label")
    expect(page.get_by_label("Camera").locator("option", has_text=HOSTILE_CAMERA)).to_have_count(1)
    hover_every_chart_item(page)
    assert_nothing_ran(page)

    page.goto(f"/ui/images?{urlencode({'camera': HOSTILE_CAMERA, 'window': 'all'})}")
    cards = page.get_by_test_id("gallery").locator("figure")
    expect(cards).to_have_count(sum(1 for image in HOSTILE_IMAGES if image[0] == HOSTILE_CAMERA))
    expect(cards.first.locator("strong")).to_have_text(HOSTILE_CAMERA)
    expect(cards.first).to_contain_text(HOSTILE_LABEL_2)
    cards.first.locator("img").click()
    expect(page.locator("dialog.lightbox p")).to_contain_text(HOSTILE_FILE)
    captions = page.locator("dialog.lightbox .box")
    expect(captions).to_have_count(2)
    for name, [(*_, confidence)] in HOSTILE_BOXES.items():
        expect(captions.filter(has_text=name)).to_have_text(f"{name} {confidence:.1f}")
    assert_nothing_ran(page)

    page.goto(f"/ui/review?{urlencode({'label': HOSTILE_LABEL, 'camera': HOSTILE_CAMERA})}"
              "&reviewer=tester")
    expect(page.locator("img.review-image")).to_have_attribute(
        "data-key", re.compile(re.escape(HOSTILE_FILE)))
    expect(page.locator("p.question")).to_contain_text(HOSTILE_CAMERA)
    expect(page.get_by_test_id("detector-labels")).to_contain_text(HOSTILE_LABEL)
    page.keyboard.press("y")
    expect(page.get_by_test_id("reviewed-count")).to_have_text("1 reviewed")
    assert_nothing_ran(page)
    # A verdict on the other camera too: the accuracy table lists cameras with verdicts.
    page.goto(f"/ui/review?{urlencode({'label': HOSTILE_LABEL, 'camera': HOSTILE_CAMERA_2})}"
              "&reviewer=tester")
    expect(page.locator("p.question")).to_contain_text(HOSTILE_CAMERA_2)
    page.keyboard.press("n")
    expect(page.get_by_test_id("reviewed-count")).to_have_text("1 reviewed")

    page.goto(f"/ui/accuracy?{urlencode({'label': HOSTILE_LABEL, 'window': 'all'})}")
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text("2 reviewed images")
    for camera in hostile_cameras:
        expect(page.get_by_test_id("accuracy-table").locator("tbody tr").filter(
            has_text=camera)).to_have_count(1)
    hover_every_chart_item(page)
    shoot(page, "hostile-accuracy")
    assert_nothing_ran(page)


# Requests that race: a held route stands for a slow answer, released once the newer one
# has painted (a page that aborted it makes the release fail, which is the point).
def _release(route: Route, url: str | None = None) -> None:
    with contextlib.suppress(PlaywrightError):  # the page aborted it while it was held
        route.continue_(url=url)


def _until(page: Page, condition: Any, timeout: float = 10) -> None:
    """Lets Playwright deliver events (route handlers run then) until condition() holds."""
    def delivered() -> bool:
        page.wait_for_timeout(20)  # Playwright delivers events only while it waits itself
        return bool(condition())

    if not condition():
        wait_for(delivered, timeout=timeout, interval=0, what="the page's request")


def _settled(page: Page) -> None:
    """Lets a released answer reach the page's script: a frame and a task later."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")


def test_an_older_answer_never_paints_over_the_newest(page):
    held: list[Route] = []
    page.route("**/sightings?**", lambda route: held.append(route) if not held
               else route.continue_())
    page.goto(f"/ui/overview?label={LABEL}&window=2h&min_confidence=90")
    sign_in(page)
    _until(page, lambda: held)
    page.get_by_label("Min confidence").fill("98")
    page.get_by_label("Min confidence").press("Tab")
    summary = page.get_by_test_id("summary")
    newest = f"{expected_above(98)} images with {LABEL} at 98+"
    expect(summary).to_contain_text(newest)
    _release(held[0])
    older = held[0].request.response()  # once it has answered, or failed
    _settled(page)
    expect(summary).to_contain_text(newest)
    expect(page.locator("#status")).to_have_text("")
    assert older is None  # aborted by the newer load


def test_an_answer_that_arrives_after_a_newer_one_is_dropped(page):
    """The sequence numbers behind the abort: an answer no signal stopped paints nothing."""
    page.goto("/ui/overview")
    sign_in(page)
    outcome = page.evaluate("""async () => {
      const { LatestLoad } = await import('/ui/static/common.js');
      const loads = new LatestLoad();
      const painted = [];
      let answerOld;
      const old = loads.run(() => new Promise((done) => { answerOld = done; }),
                            (answer) => painted.push(answer));
      const busyWhileLoading = loads.busy;
      const newest = await loads.run(async () => 'newest', (answer) => painted.push(answer));
      answerOld('old');
      return { painted, busyWhileLoading, newest, old: await old, busyAfter: loads.busy };
    }""")
    assert outcome == {"painted": ["newest"], "busyWhileLoading": True, "newest": True,
                       "old": False, "busyAfter": False}


class GalleryPages:
    """Serves /images at two images a page, and holds the first next page once armed."""

    def __init__(self, page: Page) -> None:
        self.held: list[tuple[Route, str]] = []
        self.cursors: list[str] = []
        self.armed = True
        page.route("**/images?**", self._handle)

    def _handle(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        query = [(name, "2" if name == "limit" else value) for name, value in parse_qsl(url.query)]
        two_a_page = url._replace(query=urlencode(query)).geturl()
        cursor = dict(query).get("cursor")
        if cursor is not None:
            self.cursors.append(cursor)
        if cursor is not None and self.armed:
            self.armed = False
            self.held.append((route, two_a_page))
        else:
            route.continue_(url=two_a_page)

    def release_last(self) -> Route:
        route, url = self.held[-1]
        _release(route, url)
        return route


def test_gallery_loads_each_page_once_and_a_restart_drops_the_page_in_flight(page):
    pages = GalleryPages(page)
    cam_a = sum(1 for image in IMAGES if image[0] == CAM_A)
    page.goto(f"/ui/images?camera={CAM_A}&window=all")
    sign_in(page)
    cards = page.get_by_test_id("gallery").locator("figure")
    expect(cards).to_have_count(2)
    _until(page, lambda: pages.held)  # the scroll sentinel asked for the second page
    page.get_by_role("button", name="Load more").click()  # while that page is loading
    _settled(page)
    pages.release_last()
    expect(cards).to_have_count(cam_a)
    expect(page.get_by_test_id("shown")).to_have_text(f"{cam_a} images shown")
    keys = [card.get_attribute("data-key") for card in cards.all()]
    assert len(set(keys)) == cam_a
    assert pages.cursors.count(pages.cursors[0]) == 1

    # A new filter while the next page is in flight: that page never joins the new grid.
    pages.armed = True
    page.reload()
    expect(cards).to_have_count(2)
    _until(page, lambda: len(pages.held) == 2)
    page.get_by_label("Label").fill(LABEL)
    page.get_by_label("Label").press("Tab")
    labelled = expected_above(0, (CAM_A,))
    expect(page.get_by_test_id("shown")).to_have_text(f"{labelled} images shown")
    expect(cards).to_have_count(labelled)
    older = pages.release_last().request.response()
    _settled(page)
    expect(cards).to_have_count(labelled)
    for card in cards.all():
        expect(card).to_contain_text(LABEL)
    assert older is None  # aborted by the restart


def _take_refusals(errors: list[str], status: int) -> list[str]:
    """The console lines a refused request leaves (its response, Chromium's own line)."""
    taken = [e for e in errors if f"{status} " in e or f"status of {status}" in e]
    errors[:] = [e for e in errors if e not in taken]
    return taken


def test_a_refused_filter_clears_what_it_invalidates(page, console_errors):
    page.goto(f"/ui/images?camera={CAM_A}&window=all")
    sign_in(page)
    cards = page.get_by_test_id("gallery").locator("figure")
    cam_a = sum(1 for image in IMAGES if image[0] == CAM_A)
    expect(page.get_by_test_id("shown")).to_have_text(f"{cam_a} images shown")
    page.get_by_label("Min confidence").fill("50")  # a range without a label: a 422
    page.get_by_label("Min confidence").press("Tab")
    expect(page.locator("#status.error")).to_contain_text("label")
    expect(cards).to_have_count(0)
    expect(page.get_by_test_id("shown")).to_have_text("")
    assert _take_refusals(console_errors, 422)

    page.goto(f"/ui/overview?label={LABEL}&window=2h&min_confidence=90")
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text(f"{expected_above(90)} images with")
    page.get_by_label("Min confidence").fill("101")
    page.get_by_label("Min confidence").press("Tab")
    expect(page.locator("#status.error")).to_contain_text("min_confidence")
    expect(summary).to_have_text("")
    expect(page.get_by_test_id("per-camera")).to_have_count(0)
    assert page.locator(".chart").evaluate_all(
        "boxes => boxes.map((box) => echarts.getInstanceByDom(box).getOption()?.series?.length"
        " ?? 0)") == [0, 0]
    assert _take_refusals(console_errors, 422)


def _stamped(moment: datetime) -> str:
    """A time as the pages show it: its own clock, then its offset (2016-11-30 23:30:05 -08:00)."""
    iso = moment.replace(microsecond=0).isoformat()
    return f"{iso[:10]} {iso[11:19]} {iso[19:]}"


def test_every_time_is_on_the_cameras_clock_with_its_offset_said_once(site, page):
    _, events = site
    captured = {event.object_key: event.captured_at for event in events}
    newest_a = max((event for event in events if event.camera == CAM_A),
                   key=lambda event: event.captured_at)
    page.goto(f"/ui/images?camera={CAM_A}&window=all")
    sign_in(page)
    first = page.get_by_test_id("gallery").locator("figure").first
    expect(first).to_have_attribute("data-key", newest_a.object_key)
    expect(first.locator("figcaption")).to_contain_text(_stamped(newest_a.captured_at))
    assert newest_a.captured_at.utcoffset() != datetime.now(ZoneInfo(READER_ZONE)).utcoffset()

    page.goto(f"/ui/overview?label={LABEL}&window=2h&min_confidence=90")
    table = page.get_by_test_id("per-camera")
    expect(table.locator("th").nth(2)).to_have_text("Latest")
    expect(table.locator("tbody tr").filter(has_text=CAM_A).locator("td").nth(2)).to_have_text(
        _stamped(newest_a.captured_at))

    page.goto(f"/ui/review?label={LABEL}&camera={CAM_B}&reviewer=tester")
    expect(page.get_by_label("Camera")).to_have_value(CAM_B)  # a list, as on the other pages
    expect(page.get_by_label("Camera").locator("option", has_text=CAM_A)).to_have_count(1)
    image = page.locator("img.review-image")
    expect(image).to_have_attribute("data-key", re.compile(rf"^alarms/{CAM_B}/"))
    shown = captured[image.get_attribute("data-key") or ""]
    expect(page.locator("p.question")).to_contain_text(f"({CAM_B}, {_stamped(shown)})")

    for slug in ("overview", "confidence", "images", "review", "accuracy"):
        page.goto(f"/ui/{slug}")
        expect(page.get_by_test_id("clock")).to_have_count(1)
        expect(page.get_by_test_id("clock")).to_contain_text("each camera's own clock")


# The scope fields each page's questions take; every page's are the same fields.
SCOPE_FIELDS = {"overview": ("window", "camera", "detector"),
                "confidence": ("window", "camera", "detector"),
                "images": ("window", "camera", "detector"),
                "accuracy": ("window", "camera", "detector"),
                "review": ("window", "camera")}
FIELD_STATE = """(select) => ({ label: select.closest('label').firstChild.textContent,
  value: select.value, options: [...select.options].map((o) => [o.value, o.textContent]) })"""


def test_the_window_camera_and_detector_fields_are_the_same_on_every_page(page):
    page.goto("/ui/overview")
    sign_in(page)
    seen: dict[str, dict[str, Any]] = {}
    for slug, names in SCOPE_FIELDS.items():
        page.goto(f"/ui/{slug}")
        for name in names:
            state = page.locator(f'#filters select[name="{name}"]').evaluate(FIELD_STATE)
            if (slug, name) == ("overview", "window"):
                # The landing page opens on the mission's question: the last 2 hours.
                assert state["value"] == "2h", state
                state = {**state, "value": "all"}
            assert state == seen.setdefault(name, state), (slug, name)
    assert seen["window"]["value"] == "all"
    assert seen["camera"]["value"] == seen["detector"]["value"] == ""
    assert [CAM_A, CAM_A] in seen["camera"]["options"]
    assert [SSD, SSD] in seen["detector"]["options"]


def _api_paths(page: Page, api_url: str) -> list[str]:
    """The paths of the api's JSON routes the page requests from now on (not /ui's own)."""
    paths: list[str] = []

    def record(request: Any) -> None:
        url = urlsplit(request.url)
        if request.url.startswith(api_url) and not url.path.startswith("/ui/"):
            paths.append(url.path)
    page.on("request", record)
    return paths


def test_the_accuracy_page_asks_four_questions_whatever_the_cameras(site, page):
    api_url, _ = site
    page.goto("/ui/overview")
    sign_in(page)  # the key is in the tab before the counted load
    expect(page.get_by_test_id("summary")).to_contain_text("images with")  # its own loaded
    paths = _api_paths(page, api_url)
    page.goto(f"/ui/accuracy?label={LABEL}&threshold=90&window=all")
    expect(page.get_by_test_id("detectors-summary")).to_contain_text("detectors compared")
    answer = httpx.get(f"{api_url}/accuracy", params={"label": LABEL, "threshold": 90},
                       headers={"X-API-Key": API_KEY}, timeout=10).json()
    rows = page.get_by_test_id("accuracy-table").locator("tbody tr")
    expect(rows).to_have_count(1 + len(answer["per_camera"]))
    for row, camera in zip(rows.all()[1:], answer["per_camera"], strict=True):
        expect(row.locator("td").nth(1)).to_have_text(str(camera["reviewed"]))
    _settled(page)
    # The form's option lists (/cameras, /detectors) once, then one load: four requests.
    assert sorted(paths) == ["/accuracy", "/accuracy/breakdown", "/accuracy/costs",
                             "/accuracy/detectors", "/cameras", "/detectors"]
    page.get_by_label("Threshold", exact=True).fill("50")
    page.get_by_label("Threshold", exact=True).press("Tab")
    expect(page.get_by_test_id("accuracy-summary")).to_contain_text("at 50:")
    _settled(page)
    assert sorted(paths[6:]) == ["/accuracy", "/accuracy/breakdown", "/accuracy/costs",
                                 "/accuracy/detectors"]


def _reviews(api_url: str, key: str) -> dict[str, Any]:
    answer = httpx.get(f"{api_url}/images/{key}", headers={"X-API-Key": API_KEY}, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_bulk_verdicts_from_the_gallery_show_in_the_history_and_undo_on_review(site, page):
    # "wind": a label no other test judges, so no accuracy figure elsewhere moves.
    api_url, _ = site
    page.goto(f"/ui/images?camera={CAM_B}&window=all")
    sign_in(page)
    cards = page.get_by_test_id("gallery").locator("figure")
    expect(cards.first).to_be_visible()
    keys = [cards.nth(index).get_attribute("data-key") for index in range(2)]
    for index in range(2):
        cards.nth(index).get_by_test_id("select-image").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("2 selected")
    page.locator("input[name=bulk-label]").fill("wind")
    page.locator("input[name=bulk-reviewer]").fill("pager")
    page.locator("button[data-bulk=true]").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("0 selected")
    for key in keys:
        assert [(r["label"], r["reviewer"]) for r in _reviews(api_url, key)["reviews"]
                if r["label"] == "wind"] == [("wind", "pager")]
    cards.first.locator("img").click()
    expect(page.get_by_test_id("verdict-history")).to_contain_text("wind: yes by pager")

    page.goto(f"/ui/review?label=wind&camera={CAM_B}&reviewer=undoer")
    image = page.locator("img.review-image")
    expect(image).to_have_attribute("data-key", re.compile(rf"^alarms/{CAM_B}/"))
    judged = image.get_attribute("data-key")
    assert judged not in keys  # judged in bulk: out of the queue
    count = page.get_by_test_id("reviewed-count")
    expect(count).to_have_text("2 reviewed")  # the two judged in bulk, in this scope
    page.keyboard.press("n")
    expect(count).to_have_text("3 reviewed")
    page.locator("button[data-verdict=undo]").click()
    expect(count).to_have_text("2 reviewed")
    detail = _reviews(api_url, judged)
    assert "wind" not in [r["label"] for r in detail["reviews"]]
    assert [(e["label"], e["reviewer"], e["undone_by"]) for e in detail["history"]] == [
        ("wind", "undoer", "undoer")]
    expect(image).to_have_attribute("data-key", judged)  # back to be judged anew
    shoot(page, "review-undo")


# The colour each page gives detectors it meets in the order given, then in the reverse.
COLOURS_IN_ORDER = """async (names) => {
  const { detectorColour } = await import('/ui/static/common.js');
  return [names.map(detectorColour), [...names].reverse().map(detectorColour).reverse()];
}"""


def test_a_detector_has_one_colour_on_every_page_and_every_load(page):
    names = [f"other{RUN}", SSD, f"another{RUN}", AWS]
    page.goto("/ui/images")  # its detector field lists /detectors' names first
    sign_in(page)
    expect(page.get_by_label("Detector").locator("option", has_text=SSD)).to_have_count(1)
    on_images, reversed_on_images = page.locator("body").evaluate(
        f"(_, names) => ({COLOURS_IN_ORDER})(names)", names)
    page.goto("/ui/review")  # no detector field
    expect(page.get_by_label("Camera").locator("option", has_text=CAM_A)).to_have_count(1)
    on_review, _ = page.locator("body").evaluate(
        f"(_, names) => ({COLOURS_IN_ORDER})(names)", names)
    assert on_images == reversed_on_images == on_review
    assert on_images[1] != on_images[3]  # the two known detectors apart


def test_review_counts_what_was_judged_ends_cleanly_and_goes_back_over_it(site, page):
    api_url, events = site
    newest_first = sorted((event for event in events if event.camera == CAM_D),
                          key=lambda event: event.captured_at, reverse=True)
    headers = {"X-API-Key": API_KEY}
    for event in newest_first[:2]:  # judged before the visit, as the demo's ground truth does
        httpx.put(f"{api_url}/verdicts", headers=headers, timeout=10, json={
            "object_key": event.object_key, "label": EDGE_LABEL, "present": True,
            "reviewer": "ground-truth"}).raise_for_status()
    page.goto(f"/ui/review?label={EDGE_LABEL}&camera={CAM_D}&reviewer=tester")
    sign_in(page)
    count = page.get_by_test_id("reviewed-count")
    expect(count).to_have_text("2 reviewed")
    image = page.locator("img.review-image")
    for judged in range(3, len(newest_first) + 1):
        expect(image).to_have_attribute("data-key", re.compile(rf"^alarms/{CAM_D}/"))
        page.keyboard.press("y")
        expect(count).to_have_text(f"{judged} reviewed")
    expect(page.locator("p.question")).to_have_text(
        f"Nothing left to review for {EDGE_LABEL} in this scope.")
    expect(page.get_by_test_id("review-stage")).to_be_hidden()
    for name in ("Yes (y)", "No (n)", "Skip (s)"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    shoot(page, "review-done")

    again = page.get_by_test_id("review-again")
    expect(again).to_have_text("Review judged images again")
    again.click()
    expect(page.get_by_test_id("review-stage")).to_be_visible()
    expect(image).to_have_attribute("data-key", newest_first[0].object_key)
    expect(page.get_by_test_id("current-verdict")).to_contain_text("Judged before: yes")
    page.keyboard.press("n")  # a change of mind replaces the verdict, adds no image
    expect(image).to_have_attribute("data-key", newest_first[1].object_key)
    expect(count).to_have_text(f"{len(newest_first)} reviewed")

    def replaced() -> bool:
        detail = httpx.get(f"{api_url}/images/{newest_first[0].object_key}", headers=headers,
                           timeout=10).json()
        return [(r["present"], r["reviewer"]) for r in detail["reviews"]] == [(False, "tester")]
    wait_for(replaced, timeout=10, interval=0.2, what="the new verdict stored")
    expect(again).to_have_text("Back to the unjudged images")
