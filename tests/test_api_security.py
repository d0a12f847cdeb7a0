"""Guessing keys through the real api: refusals are counted per client address, limited
with 429 and Retry-After (on the login form and on X-API-Key alike), and seen in /metrics.

Each test sends from its own loopback address (127.0.0.x), so one api serves them all and
the limiter's per-client accounting is exercised for real.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from labelgraph_api.bounded_body import MAX_BODY_BYTES
from labelgraph_contract.bounds import NAME_MAX_CHARS
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.services import ServiceProcesses

pytestmark = pytest.mark.stack

KEY = secrets.token_hex(16)
LIMIT = 4
WINDOW = 2.0


@pytest.fixture(scope="module")
def api_url(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    services = ServiceProcesses(stack.env, tmp_path_factory.mktemp("security-logs"), extra_env={
        "API_KEYS": KEY, "API_KEY_FAILURE_LIMIT": str(LIMIT),
        "API_KEY_FAILURE_WINDOW_SECONDS": str(WINDOW)})
    services.start(names=("api",))
    try:
        yield services.api_url
    finally:
        services.stop()


def client_from(api_url: str, address: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x works on loopback)."""
    return httpx.Client(base_url=api_url, timeout=10,
                        transport=httpx.HTTPTransport(local_address=address))


def check(client: httpx.Client, key: str) -> httpx.Response:
    return client.post("/ui/session", json={"key": key})


def counters(client: httpx.Client) -> dict[tuple[str, str], float]:
    """The key counters of /metrics, by (name, check)."""
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name.startswith("labelgraph_api_key_") and sample.name.endswith("_total"):
                found[sample.name, sample.labels["check"]] = sample.value
    return found


def test_guessing_on_the_login_form_is_limited_per_client_then_allowed_again(api_url):
    with client_from(api_url, "127.0.0.2") as guesser, client_from(api_url, "127.0.0.3") as other:
        before = counters(guesser)
        for guess in range(LIMIT):
            answer = check(guesser, f"guess-{guess}")
            assert (answer.status_code, answer.json()) == (200, {"valid": False})
        limited = check(guesser, "one-more-guess")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= WINDOW + 1
        # While limited, even the right key is not checked: the answer tells nothing.
        assert check(guesser, KEY).status_code == 429
        assert check(other, KEY).json() == {"valid": True}  # another address is not limited
        after = counters(guesser)
        assert after["labelgraph_api_key_refusals_total", "session"] - before.get(
            ("labelgraph_api_key_refusals_total", "session"), 0) == LIMIT
        assert after["labelgraph_api_key_checks_limited_total", "session"] - before.get(
            ("labelgraph_api_key_checks_limited_total", "session"), 0) == 2
        # Once the window has passed the oldest refusal, the right key works again.
        assert wait_for(lambda: check(guesser, KEY).status_code == 200, timeout=WINDOW + 3)
        assert check(guesser, KEY).json() == {"valid": True}


def test_refused_api_keys_count_against_the_same_limit(api_url):
    with client_from(api_url, "127.0.0.4") as guesser:
        for _ in range(LIMIT * 2):  # a missing key is no guess: never limited
            assert guesser.get("/cameras").status_code == 401
        for guess in range(LIMIT - 1):
            assert guesser.get("/cameras", headers={"X-API-Key": f"g{guess}"}).status_code == 401
        assert check(guesser, "last-guess").json() == {"valid": False}
        limited = guesser.get("/cameras", headers={"X-API-Key": KEY})
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert wait_for(lambda: guesser.get("/cameras", headers={"X-API-Key": KEY}
                                            ).status_code == 200, timeout=WINDOW + 3)



@pytest.mark.parametrize("path, method", [("/ui/session", "post"), ("/verdicts", "put")])
def test_text_no_encoder_takes_gets_a_422_not_a_500(api_url, path, method):
    # A lone surrogate is valid JSON but no UTF-8: echoing it back used to fail with 500.
    body = '{"key": 5, "object_key": "\\ud800", "present": "\\ud800", "reviewer": "a"}'
    response = httpx.request(method.upper(), f"{api_url}{path}", content=body, timeout=10,
                             headers={"Content-Type": "application/json", "X-API-Key": KEY})
    assert response.status_code == 422, response.text
    assert "ud800" not in response.text and response.json()["detail"]


# --- a verdict is read strictly (issue 21) ----------------------------------------------

UNKNOWN_IMAGE = {"object_key": "nowhere/never.jpg", "label": "Person", "present": True,
                 "reviewer": "ann"}


def put_verdict(api_url: str, **request: Any) -> httpx.Response:
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    return httpx.put(f"{api_url}/verdicts", headers=headers, timeout=30, **request)


@pytest.mark.parametrize("field, value", [
    ("present", "yes"), ("present", "true"), ("present", 1),
    ("label", "Per\x00son"), ("reviewer", "ann\nbob"), ("reviewer", "ann\u0085"),
    ("object_key", "cam/\x1b[2J.jpg"), ("comment", "an unknown field"),
])
def test_a_verdict_with_a_loose_type_a_control_character_or_an_unknown_field_is_a_422(
        api_url, field, value):
    assert put_verdict(api_url, json=UNKNOWN_IMAGE).status_code == 404  # well-formed: checked
    refused = put_verdict(api_url, json={**UNKNOWN_IMAGE, field: value})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", field]


def test_a_verdicts_names_have_the_contracts_bounds(api_url):
    longest = "x" * NAME_MAX_CHARS
    for field in ("label", "reviewer"):
        assert put_verdict(api_url, json={**UNKNOWN_IMAGE, field: longest}).status_code == 404
        assert put_verdict(api_url, json={**UNKNOWN_IMAGE, field: longest + "x"}
                           ).status_code == 422


@pytest.mark.parametrize("path, name, other", [
    ("/accuracy", "label", {}), ("/confidence-histogram", "label", {}),
    ("/rollups", "label", {"by": "month"}), ("/labels", "prefix", {}),
    ("/images", "detector", {"label": "Person"}),
])
def test_a_question_takes_any_name_a_verdict_or_an_event_can_hold(api_url, path, name, other):
    # A label a reviewer judged must be one the accuracy page can ask about.
    headers = {"X-API-Key": KEY}
    longest = "x" * NAME_MAX_CHARS
    params = {name: longest, **other}
    answer = httpx.get(f"{api_url}{path}", params=params, headers=headers, timeout=30)
    # An unknown detector whose answer is empty is refused as unknown, not for its length.
    assert answer.status_code == 200 or (
        name == "detector" and answer.json()["parameter"].startswith("detector")), answer.text
    params[name] = longest + "x"
    assert httpx.get(f"{api_url}{path}", params=params, headers=headers,
                     timeout=30).status_code == 422


def test_a_body_over_the_bound_is_a_413_whether_its_length_is_declared_or_not(api_url):
    huge = json.dumps({**UNKNOWN_IMAGE, "padding": "x" * 5_000_000}).encode()
    assert put_verdict(api_url, content=huge).status_code == 413
    chunks = (huge[start:start + 65_536] for start in range(0, len(huge), 65_536))
    chunked = put_verdict(api_url, content=chunks)
    assert chunked.status_code == 413
    assert chunked.request.headers.get("Transfer-Encoding") == "chunked"


def test_a_body_of_the_bound_is_parsed_and_one_byte_more_is_not(api_url):
    def padded_to(size: int) -> bytes:
        body = json.dumps({**UNKNOWN_IMAGE, "padding": ""}).encode()
        return body.replace(b'"padding": ""', b'"padding": "' + b"x" * (size - len(body)) + b'"')

    assert len(padded_to(MAX_BODY_BYTES)) == MAX_BODY_BYTES
    assert put_verdict(api_url, content=padded_to(MAX_BODY_BYTES)).status_code == 422  # read
    assert put_verdict(api_url, content=padded_to(MAX_BODY_BYTES + 1)).status_code == 413


# --- /docs and /openapi.json send the pages' security headers (issue 21) ----------------

@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_docs_send_the_pages_security_headers(api_url, path):
    page = httpx.get(f"{api_url}/ui/overview", timeout=10)
    served = httpx.get(f"{api_url}{path}", timeout=10)
    assert served.status_code == 200
    for header in ("Content-Security-Policy", "X-Content-Type-Options"):
        assert page.headers[header]
        assert served.headers.get(header) == page.headers[header], header
