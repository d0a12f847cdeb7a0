"""The HTTP edge: Rekognition's JSON protocol on POST /, admin endpoints under /_stub/."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from rekognition_stub.calls import CallLog
from rekognition_stub.detect import (
    DetectLabelsRequest,
    ImageStore,
    Limits,
    detect_labels,
    parse_request,
)
from rekognition_stub.errors import RekognitionError
from rekognition_stub.rules import Label, Rule, RuleBook
from rekognition_stub.rules_format import (
    RulesError,
    document_to_json,
    parse_document,
    parse_rules,
)

DETECT_LABELS_TARGET = "RekognitionService.DetectLabels"
AWS_JSON = "application/x-amz-json-1.1"

log = logging.getLogger("rekognition_stub")


@dataclass(frozen=True)
class Stub:
    """What every request works with, wired once at start-up."""

    rules: RuleBook
    calls: CallLog
    images: ImageStore
    limits: Limits


class StubServer(ThreadingHTTPServer):
    """A thread per connection; a deep backlog for benchmark bursts of new connections."""

    daemon_threads = True
    request_queue_size = 256


def make_server(stub: Stub, host: str, port: int) -> StubServer:
    """A server bound to host:port (port 0 picks a free one) answering with this stub."""
    handler = type("BoundStubHandler", (StubHandler,), {"stub": stub})
    return StubServer((host, port), handler)


class StubHandler(BaseHTTPRequestHandler):
    """Routes one HTTP request; `stub` is bound by make_server."""

    # Keep-alive, so boto3's pooled connections are reused rather than reopened per call.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK and every call costs ~40 ms.
    disable_nagle_algorithm = True
    stub: ClassVar[Stub]

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep http.server's per-request lines out of the one-line-per-call log."""
        log.debug(format, *args)

    def _dispatch(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = _ROUTES.get((method, self.path.split("?", 1)[0]))
        if route is None:
            self._send(404, {"error": f"no route for {method} {self.path}"})
            return
        route(self, body)

    def _rekognition(self, body: bytes) -> None:
        """POST /: one Rekognition API call."""
        target = self.headers.get("X-Amz-Target", "")
        if target != DETECT_LABELS_TARGET:
            message = f"The stub serves only {DETECT_LABELS_TARGET}, not {target!r}."
            self._send_aws_error(RekognitionError("UnknownOperationException", message))
            return
        request: DetectLabelsRequest | None = None
        try:
            request = parse_request(_aws_json(body))
            response = detect_labels(request, self.stub.rules, self.stub.images, self.stub.limits)
        except RekognitionError as error:
            self._record(request, error.code, f"{error.code}: {error.message}")
            self._send_aws_error(error)
            return
        except Exception:
            log.exception("DetectLabels failed")
            self._record(request, "InternalServerError", "InternalServerError")
            self._send_aws_error(RekognitionError("InternalServerError"))
            return
        self._record(request, "labels", _summary(response["Labels"]))
        self._send(200, response, {"Content-Type": AWS_JSON})

    def _health(self, body: bytes) -> None:
        """GET /_stub/health."""
        self._send(200, {"status": "ok"})

    def _get_rules(self, body: bytes) -> None:
        """GET /_stub/rules: the live document, `times` showing the uses left."""
        self._send(200, document_to_json(self.stub.rules.document()))

    def _put_rules(self, body: bytes) -> None:
        """PUT /_stub/rules: replace the whole document."""
        self._change_rules(lambda raw: self.stub.rules.replace(parse_document(raw)), body)

    def _append_rules(self, body: bytes) -> None:
        """POST /_stub/rules/append: {"rules": [...]} after the current rules."""
        self._change_rules(lambda raw: self.stub.rules.add(_rules_of(raw), front=False), body)

    def _prepend_rules(self, body: bytes) -> None:
        """POST /_stub/rules/prepend: {"rules": [...]} before the current rules."""
        self._change_rules(lambda raw: self.stub.rules.add(_rules_of(raw), front=True), body)

    def _reset_rules(self, body: bytes) -> None:
        """DELETE /_stub/rules: back to the document the stub started with."""
        self.stub.rules.reset()
        self._get_rules(body)

    def _get_calls(self, body: bytes) -> None:
        """GET /_stub/calls: DetectLabels calls served, in total, per object and per outcome."""
        self._send(200, self.stub.calls.snapshot())

    def _reset_calls(self, body: bytes) -> None:
        """DELETE /_stub/calls: count from zero."""
        self.stub.calls.reset()
        self._get_calls(body)

    def _change_rules(self, change: Callable[[Any], None], body: bytes) -> None:
        try:
            change(json.loads(body or b"null"))
        except (ValueError, RulesError) as error:
            self._send(400, {"error": f"bad rules document: {error}"})
            return
        log.info("rules changed over HTTP (%s %s)", self.command, self.path)
        self._get_rules(body)

    def _record(self, request: DetectLabelsRequest | None, outcome: str, summary: str) -> None:
        name = None if request is None else request.object_name
        self.stub.calls.record(name, outcome)
        shown = "<inline bytes>" if request is not None and name is None else name
        log.info("DetectLabels %s -> %s", shown or "<bad request>", summary)

    def _send_aws_error(self, error: RekognitionError) -> None:
        headers = {"Content-Type": AWS_JSON, "x-amzn-ErrorType": error.code}
        self._send(error.status, error.body(), headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


_ROUTES: dict[tuple[str, str], Callable[[StubHandler, bytes], None]] = {
    ("POST", "/"): StubHandler._rekognition,
    ("GET", "/_stub/health"): StubHandler._health,
    ("GET", "/_stub/rules"): StubHandler._get_rules,
    ("PUT", "/_stub/rules"): StubHandler._put_rules,
    ("POST", "/_stub/rules/append"): StubHandler._append_rules,
    ("POST", "/_stub/rules/prepend"): StubHandler._prepend_rules,
    ("DELETE", "/_stub/rules"): StubHandler._reset_rules,
    ("GET", "/_stub/calls"): StubHandler._get_calls,
    ("DELETE", "/_stub/calls"): StubHandler._reset_calls,
}


def _aws_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise RekognitionError("SerializationException", f"Body is not JSON: {error}") from error


def _summary(labels: list[Label]) -> str:
    shown = ", ".join(f"{label['Name']} {label['Confidence']:.1f}" for label in labels)
    return shown or "no labels"


def _rules_of(raw: Any) -> tuple[Rule, ...]:
    if not isinstance(raw, dict) or set(raw) != {"rules"}:
        raise RulesError('the body must be {"rules": [...]}')
    return parse_rules(raw["rules"])
