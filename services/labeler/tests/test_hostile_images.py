"""Hostile uploads through the real labeler process with the real detectors (the Rekognition
stub, HOG and the SSD) on the embedded stack: each meets its outcome, the bombs are refused
before any detector reads them, and the process's memory stays bounded throughout."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from labelgraph_devstack.ports import free_port
from labelgraph_devstack.probes import http_status
from labelgraph_devstack.services import ServiceProcesses
from labelgraph_labeler.adapters.s3 import HEADER_BYTES, ImageHeader, S3ImageStore
from labelgraph_labeler.adapters.sqs import uploads
from labelgraph_labeler.domain import ImageRejected
from services.labeler.tests.hostile_images import (
    CORPUS,
    DETECTORS,
    PHOTOS,
    Outcome,
    bomb_jpeg,
    content,
    header_far_in_jpeg,
    items,
)

pytestmark = pytest.mark.stack

# How far the labeler's peak RSS may rise over its RSS once warm (models loaded, every
# instance run), through the whole corpus at LABELER_CONCURRENCY=8. Measured: 622 MB warm,
# 663 MB peak (services/labeler/README.md); before issue 21 the PNG bomb alone took it from
# 298 MB to 10.3 GB, and decoding the large JPEG whole costs 104 MB a detector.
PEAK_GROWTH_BOUND_MB = 150


def test_every_hostile_upload_meets_its_outcome_and_memory_stays_bounded(lane_for, tmp_path):
    lane = lane_for(",".join(DETECTORS))
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Plant", 80)]})
    keys = {name: lane.key(name=name) for name in CORPUS}
    corpus = list(items())  # made before the labeler starts: none of it counts against it
    expected = {name: outcome for name, _, outcome in corpus}
    dead = sum(outcome.dead_letter is not None for outcome in expected.values())
    ops = f"http://127.0.0.1:{free_port()}"
    services = ServiceProcesses(lane.env, tmp_path / "logs", extra_env={
        **lane.env, "LABELER_OPS_PORT": ops.rpartition(":")[2], "LABELER_CONCURRENCY": "8"})
    try:
        services.start(names=("labeler",))
        lane.wait_for(lambda: services.running() and http_status(f"{ops}/ready") == 200,
                      timeout=60)
        pid = services.processes["labeler"].pid
        warm_up(lane)
        warm_mb = memory_mb(pid, "VmRSS")
        for name, body, _ in corpus:
            lane.put(keys[name], body)
        lane.wait_for(lambda: services.running() and lane.queue_depth() == 0
                      and lane.queue_depth(f"{lane.queue}-dlq") == dead, timeout=120)
        peak_mb = memory_mb(pid, "VmHWM")
        counted = failures(httpx.get(f"{ops}/metrics", timeout=5).text)
    finally:
        services.close()

    assert observed_outcomes(lane, keys) == expected
    # Once per detector for each refused upload, as for any image no detector can take.
    assert counted == {**{(name, "too_large"): 2 for name in DETECTORS},
                       **{(name, "not_image"): 4 for name in DETECTORS},
                       ("opencv-hog", "not_image"): 5, ("ssd-mobilenet-v2-coco", "not_image"): 5}
    print(f"labeler RSS once warm {warm_mb:.0f} MB, peak through the corpus {peak_mb:.0f} MB")
    assert peak_mb - warm_mb < PEAK_GROWTH_BOUND_MB, (warm_mb, peak_mb)


def test_the_image_store_reads_a_header_past_its_first_range_and_refuses_at_its_bound(
        lane):
    store = S3ImageStore(lane.client("s3"), max_pixels=81_000_000)
    far_in, at_bound = lane.key(), lane.key()
    lane.put(far_in, header_far_in_jpeg())
    lane.put(at_bound, bomb_jpeg(9_000, 9_000))  # 81,000,000 pixels: taken
    refused = {lane.key(): (bomb_jpeg(9_001, 9_000), "too_large"),  # one column more
               lane.key(): (b"", "not_image"),
               lane.key(): (content("webp-as-jpg"), "not_image"),
               lane.key(): (bytes(3 * HEADER_BYTES), "not_image")}  # read whole, in vain
    for key, (body, _) in refused.items():
        lane.put(key, body)

    assert len(header_far_in_jpeg()) > 2 * HEADER_BYTES
    assert store.checked_header(lane.bucket, far_in) == ImageHeader("JPEG", 512, 512)
    assert store.checked_header(lane.bucket, at_bound).pixels == 81_000_000
    assert {key: refusal(store, lane.bucket, key) for key in refused} == {
        key: reason for key, (_, reason) in refused.items()}


def refusal(store: S3ImageStore, bucket: str, key: str) -> str:
    with pytest.raises(ImageRejected) as refused:
        store.checked_header(bucket, key)
    return refused.value.reason


def warm_up(lane) -> None:
    """Eight camera stills at once, so every pooled model instance has run and allocated
    its buffers: what the corpus adds is then measured alone."""
    keys = [lane.key() for _ in range(8)]
    for key in keys:
        lane.put(key, (PHOTOS / "street-010.jpg").read_bytes())
    lane.wait_for(lambda: lane.queue_depth() == 0 and all(
        lane.rows(key, detector) for key in keys for detector in DETECTORS), timeout=60)


def observed_outcomes(lane, keys: dict[str, str]) -> dict[str, Outcome]:
    """What became of each upload: its dead letter's reason, the tables holding its rows,
    and whether the stub was asked."""
    reasons = {uploads(message["Body"])[0].key:
               message["MessageAttributes"]["failure-reason"]["StringValue"]
               for message in lane.dead_letters()}
    return {name: Outcome(reasons.get(key),
                          frozenset(detector for detector in DETECTORS
                                    if lane.rows(key, detector)),
                          lane.stub_calls(key) > 0)
            for name, key in keys.items()}


def failures(metrics: str) -> Counter[tuple[str, str]]:
    """labeler_images_failed_total by (detector, reason), from a /metrics page."""
    counted: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "labeler_images_failed_total":
                counted[sample.labels["detector"], sample.labels["reason"]] += int(sample.value)
    return counted


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (the peak so far) of a process, in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_labeler_max_pixels_sets_the_bound_the_running_labeler_refuses_above(
        lane, in_process):
    key = lane.key()  # the lane's drawn still is 320 x 240: 76,800 pixels

    with in_process(LABELER_MAX_PIXELS=320 * 240 - 1):
        lane.put(key)
        lane.wait_for(lambda: lane.queue_depth(f"{lane.queue}-dlq") == 1, timeout=20)

    [dead] = lane.dead_letters()
    assert dead["MessageAttributes"]["failure-reason"]["StringValue"] == "too_large"
    assert lane.stub_calls(key) == 0 and lane.rows(key) == []
