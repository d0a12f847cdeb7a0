"""/docs in Chromium through the real api: Swagger UI draws every operation under the pages'
Content-Security-Policy, which refuses a script injected into it (issue 21)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from labelgraph_devstack.services import ServiceProcesses

pytestmark = pytest.mark.stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium reaches for Google's services, which this machine cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
INJECT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.body.append(script);
    return window.injected === true;
}"""


@pytest.fixture(scope="module")
def api_url(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("docs-page-logs"),
                                extra_env={"API_KEYS": secrets.token_hex(16)})
    services.start(names=("api",))
    try:
        yield services.api_url
    finally:
        services.stop()


def test_swagger_ui_draws_under_the_pages_policy_and_an_injected_script_does_not_run(api_url):
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: `make browser` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            errors: list[str] = []
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(f"{api_url}/docs")
            expect(tab.locator('.opblock-summary-path[data-path="/verdicts"]')).to_be_visible()
            expect(tab.locator(".opblock")).to_have_count(len(_operations(tab, api_url)))
            assert errors == [], errors
            assert tab.evaluate(INJECT) is False
            assert any("Content Security Policy" in error for error in errors), errors
        finally:
            browser.close()


def _operations(tab: Any, api_url: str) -> list[tuple[str, str]]:
    document = tab.request.get(f"{api_url}/openapi.json").json()
    return [(path, method) for path, item in document["paths"].items() for method in item]
