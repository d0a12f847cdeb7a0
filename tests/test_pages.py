"""The pages in a real browser (Debian's Chromium driven by Playwright) against the api on
the embedded stack, over a graph written by the real graph-writer from known events.

Every expected number is computed here from the events this module generates. Screenshots
of each page go to test-output/pages/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from labelgraph_contract import (
    DetectedLabel,
    ImageLabeled,
    captured_fields,
    labelling_event_id,
)
from labelgraph_demo.loading import aws_client, publish_events
from labelgraph_demo.samples import CAMERA_ZONE, draw_scene
from labelgraph_demo.services import ServiceProcesses

pytestmark = pytest.mark.stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "pages"
# Without these, Chromium reaches for Google's services, which this machine cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
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


def make_events(now: datetime) -> list[ImageLabeled]:
    events = []
    for index, (camera, minutes, confidence, _) in enumerate(IMAGES):
        captured = (now - timedelta(minutes=minutes)).astimezone(CAMERA_ZONE).replace(microsecond=0)
        identity = dict(bucket="security-alarms",
                        object_key=f"alarms/{camera}/{captured:%Y-%m-%d}/{captured:%H}/"
                                   f"{camera}_{captured:%Y%m%d-%H%M%S}_{index}.jpg",
                        image_etag=f"e{index}", detector="aws-rekognition", model_version="3.0")
        labels = [DetectedLabel(name="Plant", confidence=80.0)]
        if confidence is not None:
            labels.insert(0, DetectedLabel(name=LABEL, confidence=confidence))
        events.append(ImageLabeled.model_validate(dict(
            event_id=labelling_event_id(**identity), **identity, camera=camera,
            **captured_fields(captured), labeled_at=now, labels=labels)))
    return events




@pytest.fixture(scope="module")
def site(stack, tmp_path_factory) -> Any:
    """The api and graph-writer over this module's events; yields the api's URL."""
    env = stack.env
    events = make_events(datetime.now(UTC))
    s3 = aws_client(env, "s3")
    for event, (_, _, _, present) in zip(events, IMAGES, strict=True):
        s3.put_object(Bucket=env["IMAGE_BUCKET"], Key=event.object_key,
                      Body=draw_scene(present, seed=event.object_key), ContentType="image/jpeg")
    topic = f"pages-{RUN}"
    asyncio.run(publish_events(env["KAFKA_BOOTSTRAP_SERVERS"], topic, events, partitions=2))
    services = ServiceProcesses(env, tmp_path_factory.mktemp("pages-logs"), extra_env={
        "LABEL_TOPIC": topic, "GRAPH_WRITER_CONSUMER_GROUP": f"pages-{RUN}",
        # The S3 notifications of the uploads above would reach a labeler; none runs here.
        "API_KEYS": API_KEY})
    services.start(names=("graph-writer", "api"))
    try:
        _wait_until_written(services.api_url, len(events))
        yield services.api_url, events
    finally:
        services.stop()


def _wait_until_written(api_url: str, expected: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = httpx.get(f"{api_url}/images", params={"camera": [CAM_A, CAM_B], "limit": 100},
                         headers={"X-API-Key": API_KEY}, timeout=10).json()
        if len(page["items"]) == expected:
            return
        time.sleep(0.25)
    raise AssertionError(f"the graph-writer did not write {expected} images in {timeout}s")


@pytest.fixture(scope="module")
def browser() -> Any:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(site, browser) -> Any:  # site first: it runs asyncio, which Playwright's loop forbids
    """A signed-in page that records console errors; the test fails on any."""
    api_url, _ = site
    context = browser.new_context(base_url=api_url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: _record_error(m, errors))
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
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


def test_confidence_threshold_line_splits_the_images(page):
    page.goto(f"/ui/confidence?label={LABEL}&window=all")
    sign_in(page)
    counts = page.get_by_test_id("threshold-counts")
    labelled = expected_above(0)
    expect(counts).to_have_text(f"{expected_above(90)} images at or above 90, "
                                f"{labelled - expected_above(90)} below")
    page.get_by_test_id("threshold").fill("98")
    expect(counts).to_have_text(f"{expected_above(98)} images at or above 98, "
                                f"{labelled - expected_above(98)} below")
    shoot(page, "confidence")


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
        f"{len(at_90)} reviewed images; at 90: precision 100.0%, "
        f"recall {tp / len(at_90) * 100:.1f}%, false-negative rate {fn / len(at_90) * 100:.1f}%")
    cells = page.get_by_test_id("accuracy-table").locator("tbody tr").filter(
        has_text=CAM_A).locator("td")
    # Camera, Reviewed, TP, FP, FN, TN
    for column, value in enumerate([CAM_A, len(at_90), tp, 0, fn, 0]):
        expect(cells.nth(column)).to_have_text(str(value))
    shoot(page, "accuracy")
