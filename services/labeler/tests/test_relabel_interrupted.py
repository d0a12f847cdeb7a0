"""Ctrl-C on `labeler relabel` through the real stack: the images in hand, then the summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.stack

IMAGES = 100


def test_ctrl_c_on_relabel_prints_the_summary_so_far_and_no_traceback(lane):
    lane.teach({"match": {"key_glob": "*"}, "labels": [lane.label("Plant", 70)]})
    for second in range(IMAGES):
        lane.put(lane.key(stamp=f"20161105-0715{second % 60:02d}", name=f"img{second}"))
    # One at a time, so the run is still going when the first image is done.
    env = {**os.environ, "LABELER_CONCURRENCY": "1"}
    relabel = subprocess.Popen([sys.executable, "-m", "labelgraph_labeler", "relabel",
                                f"s3://{lane.bucket}/alarms/"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert relabel.stderr
    progress = b""
    deadline = time.monotonic() + 60
    while (f"1/{IMAGES} images".encode() not in progress and relabel.poll() is None
           and time.monotonic() < deadline):
        progress += os.read(relabel.stderr.fileno(), 4096) or b""
    relabel.send_signal(signal.SIGINT)
    out, err = relabel.communicate(timeout=60)

    assert relabel.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in progress + err
    summary = json.loads(out.splitlines()[-1])
    assert summary["stopped_early"] is True
    assert 1 <= summary["images"] < IMAGES
    assert summary["by_detector"]["aws-rekognition"]["labeled"] == summary["images"]
