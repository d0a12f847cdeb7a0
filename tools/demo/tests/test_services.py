"""The demo's service processes: their ops ports are named, and a death is noticed and told."""

import json
import logging
import re
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from labelgraph_demo.__main__ import _print_guide, _wait_for_stop, _wait_until_labelled
from labelgraph_demo.samples import DEMO_DETECTORS
from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.ports import held_port
from labelgraph_devstack.services import ServiceDied, ServiceProcesses

# Nothing listens on port 1: the graph-writer waits it out, which is all these tests need.
NO_STACK = {"NEO4J_URI": "bolt://127.0.0.1:1", "NEO4J_PASSWORD": "unused-here",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}


class FakeServices:
    """Alive for a few checks, then one of them has died."""

    def __init__(self, checks_alive: int) -> None:
        self.checks_alive = checks_alive

    def raise_if_exited(self) -> None:
        if self.checks_alive == 0:
            raise ServiceDied("graph-writer exited with 1")
        self.checks_alive -= 1


def wait_for_log_line(log: Path, pattern: str, services: ServiceProcesses) -> re.Match[str]:
    def said() -> re.Match[str] | None:
        found = re.search(pattern, log.read_text() if log.exists() else "")
        if not found:
            services.raise_if_exited()
        return found

    return wait_for(said, 60, what=f"{log} saying {pattern!r}")


def test_waiting_for_ctrl_c_stops_when_a_service_dies():
    with pytest.raises(ServiceDied, match="graph-writer exited with 1"):
        _wait_for_stop(threading.Event(), FakeServices(checks_alive=3), interval=0.01)


def test_waiting_for_ctrl_c_ends_quietly_on_the_stop_signal():
    stop = threading.Event()
    stop.set()
    _wait_for_stop(stop, FakeServices(checks_alive=0), interval=0.01)


def test_the_guide_names_the_workers_ops_urls(capsys, tmp_path):
    services = ServiceProcesses({}, tmp_path)
    _print_guide(services.api_url, services.ops_urls, tmp_path, "alarms/cam1/x.jpg", {})
    guide = capsys.readouterr().out
    assert f"http://127.0.0.1:{services.labeler_ops_port}/metrics" in guide
    assert f"http://127.0.0.1:{services.graph_writer_ops_port}/metrics" in guide


def test_the_graph_writer_logs_the_ops_port_it_serves_on(tmp_path):
    with closing(ServiceProcesses(NO_STACK, tmp_path)) as services:
        services.start(names=("graph-writer",))
        logged = wait_for_log_line(tmp_path / "graph-writer.log",
                                   r'"message": "ops endpoints \(/health, /ready, /metrics\) '
                                   r'on 127\.0\.0\.1:(\d+)"', services)
        assert int(logged.group(1)) == services.graph_writer_ops_port
        health = httpx.get(f"{services.ops_urls['GRAPH_WRITER_OPS_URL']}/health", timeout=5)
        assert health.json() == {"status": "ok"}


def test_a_service_whose_ops_port_is_taken_dies_with_one_line_and_is_named(tmp_path):
    with held_port() as port:
        services = ServiceProcesses(NO_STACK, tmp_path, graph_writer_ops_port=port)
        with closing(services), pytest.raises(ServiceDied) as died:
            services.start(names=("graph-writer",))
            wait_for_log_line(tmp_path / "graph-writer.log", "never logged", services)
    assert "graph-writer exited with 1" in str(died.value)
    assert (tmp_path / "graph-writer.log").read_text().splitlines() == [
        f"cannot serve the ops endpoints on 127.0.0.1:{port}: Address "
        "already in use (another process holds it? set the service's *_OPS_PORT)"]


class GrowingDetectors(BaseHTTPRequestHandler):
    """An api whose /detectors counts grow by 10 images a request, the SSD's up to 30."""

    answered = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        GrowingDetectors.answered += 1
        names = [entry.split("=")[0] for entry in DEMO_DETECTORS.split(",")]
        images = {name: min(10 * GrowingDetectors.answered, 30) for name in names}
        images["opencv-hog"] = min(5 * GrowingDetectors.answered, 30)
        body = json.dumps({"detectors": [{"detector": name, "images": count}
                                         for name, count in images.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_the_wait_for_the_labels_says_each_detectors_progress(caplog):
    server = ThreadingHTTPServer(("127.0.0.1", 0), GrowingDetectors)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Api(FakeServices):
        api_url = f"http://127.0.0.1:{server.server_address[1]}"

    try:
        with caplog.at_level(logging.INFO, logger="labelgraph_demo"):
            _wait_until_labelled(Api(checks_alive=100), 30, timeout=30, report_every=0)
    finally:
        server.shutdown()
    lines = [record.getMessage() for record in caplog.records if record.name == "labelgraph_demo"]
    assert lines[0] == ("labelled: rekognition-stand-in 10/30, ssd-mobilenet-v2-coco 10/30, "
                        "opencv-hog 5/30")
    assert lines[-1] == ("labelled: rekognition-stand-in 30/30, ssd-mobilenet-v2-coco 30/30, "
                         "opencv-hog 30/30")
    assert len(lines) == len(set(lines)) == 6  # one line per change, none repeated


@pytest.mark.stack
def test_the_guide_lists_every_address_the_stack_listens_on(stack, capsys, tmp_path):
    services = ServiceProcesses({}, tmp_path)
    _print_guide(services.api_url, services.ops_urls, tmp_path, "alarms/cam1/x.jpg", stack.env)
    guide = capsys.readouterr().out
    listening = {port for value in stack.env.values()
                 for port in re.findall(r"127\.0\.0\.1:(\d+)", value)}
    assert len(listening) >= 5  # Kafka, the AWS stand-in, Bolt, ArcadeDB's HTTP, the stub
    for port in listening:
        assert f"127.0.0.1:{port}" in guide, f"the guide leaves out port {port}"
    assert stack.env["KAFKA_BOOTSTRAP_SERVERS"] in guide
