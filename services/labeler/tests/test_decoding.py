"""decode_image on a large JPEG in a process of its own, whose peak memory is then read:
the JPEG is decoded reduced (libjpeg's DCT scaling), never at its full size."""

from __future__ import annotations

import subprocess
import sys

from labelgraph_labeler.adapters.decoding import MAX_SIDE
from services.labeler.tests.hostile_images import large_jpeg

DECODE = """
import resource, sys
from pathlib import Path
from labelgraph_labeler.adapters.decoding import decode_image
content = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
height, width = decode_image(content).shape[:2]
print(height, width, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_large_jpeg_is_decoded_reduced_never_at_its_full_size(tmp_path):
    image = tmp_path / "large.jpg"
    image.write_bytes(large_jpeg())  # 7,200 x 4,800: 104 MB of BGR if decoded whole
    decoded = subprocess.run([sys.executable, "-c", DECODE, str(image)], capture_output=True,
                             text=True, check=True)
    height, width, peak_growth_mb = map(int, decoded.stdout.split())
    assert (height, width) == (MAX_SIDE * 2 // 3, MAX_SIDE)
    # Read at 1/4 (1,800 x 1,200), 6.5 MB, then area-resized.
    assert peak_growth_mb < 30
