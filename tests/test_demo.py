"""The demo's story through the real pipeline: samples uploaded, labelled, graphed, and the
shipped ground truth loaded in one go gives the accuracy the samples were made with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from labelgraph_demo.loading import load_ground_truth, teach_stub, upload, write_ground_truth
from labelgraph_demo.samples import make_samples
from labelgraph_demo.services import ServiceProcesses
from labelgraph_devstack.polling import wait_for

pytestmark = pytest.mark.stack




def test_ground_truth_loads_at_once_and_shows_the_detectors_misses(stack, tmp_path):
    prefix = f"demo{uuid.uuid4().hex[:6]}"
    samples = make_samples(datetime.now(UTC), count=30, prefix=prefix)
    cameras = sorted({s.camera for s in samples})
    truth_file = tmp_path / "ground-truth.json"
    with ServiceProcesses(stack.env, tmp_path / "logs",
                          extra_env={"API_INSECURE_NO_AUTH": "true"}) as services:
        teach_stub(stack.env["REKOGNITION_STUB_URL"], samples)
        upload(stack.env, samples)
        write_ground_truth(truth_file, samples)
        api = httpx.Client(base_url=services.api_url, timeout=10)
        wait_for(lambda: sum(c["images"] for c in api.get("/cameras").json()
                             if c["camera"] in cameras) == len(samples))

        assert load_ground_truth(services.api_url, truth_file) == len(samples)
        result = api.get("/accuracy", params={"label": "Person", "camera": cameras,
                                              "threshold": 90}).json()

    present = [s for s in samples if s.has_person]
    caught = [s for s in present if s.detected_person]
    false_alarms = [s for s in samples if s.detected_person and not s.has_person]
    at_90 = result["at_threshold"]
    assert result["reviewed"] == len(samples)
    assert (at_90["true_positives"], at_90["false_negatives"], at_90["false_positives"]) == (
        len(caught), len(present) - len(caught), len(false_alarms))
    # The story the demo tells: the detector misses a large share of the people.
    assert at_90["false_negative_rate"] == pytest.approx(1 - len(caught) / len(present))
    assert at_90["false_negative_rate"] > 0.3
