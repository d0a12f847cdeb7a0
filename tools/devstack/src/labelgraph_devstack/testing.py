"""Test support: a drawn camera still, for tests and benchmarks that need a JPEG a stub
labels (what it shows does not matter to them; real detectors get samples/photos).

Needs Pillow, which the workspace's dev group installs.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def draw_scene(has_person: bool, seed: str, hidden: bool = False) -> bytes:
    """A 320x240 JPEG: sky, lawn, a bush, and a figure when someone is there.

    A `hidden` figure is drawn half behind the bush, as in the images the original post
    found its detector missed.
    """
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (135, 170, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 240), fill=(70, 120, 60))
    bush_x = rng.randint(20, 200)
    if has_person:
        x = bush_x + 30 if hidden else rng.randint(40, 260)
        draw.ellipse((x - 8, 100, x + 8, 116), fill=(230, 190, 160))
        draw.line((x, 116, x, 160), fill=(30, 30, 90), width=5)
        draw.line((x, 160, x - 10, 190), fill=(30, 30, 90), width=4)
        draw.line((x, 160, x + 10, 190), fill=(30, 30, 90), width=4)
    bush_top = 125 if hidden else 120
    draw.ellipse((bush_x, bush_top, bush_x + 60, 175), fill=(40, 90, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
