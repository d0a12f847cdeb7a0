"""Hostile uploads, made on demand and the same every run (no binaries in git): images that
decode to far more pixels than their bytes suggest, cut or empty files, other formats under
a .jpg name, and the unusual but valid images a camera may send, each with the outcome the
labeler must give it.

Imported by the tests as services.labeler.tests.hostile_images (pytest's importlib mode
registers the tests' folders as packages).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PHOTOS = Path(__file__).resolve().parents[3] / "samples" / "photos"
DETECTORS = ("aws-rekognition", "opencv-hog", "ssd-mobilenet-v2-coco")
LOCAL = frozenset(DETECTORS[1:])
# The stub reads what Rekognition reads: JPEG and PNG by their magic number.
EVERY = frozenset(DETECTORS)
BOMB_SIDE = 30_000  # 900 MP: what issue 21's 109 KB PNG decoded to


@dataclass(frozen=True)
class Outcome:
    """What must become of one upload: the dead-letter reason (None: none), the detectors
    that label it, and whether Rekognition is asked at all."""

    dead_letter: str | None
    labelled_by: frozenset[str]
    rekognition_asked: bool


REFUSED_UNREAD = {"too_large": Outcome("too_large", frozenset(), False),
                  "not_image": Outcome("not_image", frozenset(), False)}
LABELLED = Outcome(None, EVERY, True)


def bomb_png(side: int = BOMB_SIDE) -> bytes:
    """A side x side one-bit grey PNG of zeros, about 109 KB at 30,000: deflate's 1:1032 at
    most, streamed row by row so the pixels never exist here either."""
    row = bytes(1 + (side + 7) // 8)  # filter byte "none", then the row's packed bits
    deflate = zlib.compressobj(9)
    data = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, grey
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(
        b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_jpeg(width: int = 9_000, height: int = 9_000) -> bytes:
    """A 16x16 grey JPEG whose frame header says width x height: a few hundred bytes that
    OpenCV decodes to the full size (the missing scan data is filled in, with a warning)."""
    small = _encoded(Image.new("L", (16, 16), 128), "JPEG")
    frame = small.index(b"\xff\xc0")  # SOF0: marker, length, precision, height, width
    return small[:frame + 5] + struct.pack(">HH", height, width) + small[frame + 9:]


def truncated_jpeg() -> bytes:
    """A photograph cut in its first scan: a whole header, half the pixels."""
    return (PHOTOS / "astronaut.jpg").read_bytes()[:20_000]


def cmyk_jpeg() -> bytes:
    return _encoded(_photo().convert("CMYK"), "JPEG")


def deep_png() -> bytes:
    """The photograph as a 16-bit-a-channel RGB PNG (Pillow cannot write one: OpenCV can)."""
    pixels = cv2.imread(str(PHOTOS / "astronaut.jpg")).astype(np.uint16) * 257
    return cv2.imencode(".png", pixels)[1].tobytes()


def large_jpeg(width: int = 7_200, height: int = 4_800) -> bytes:
    """A 34.6 MP photograph (under the 40 MP default): 104 MB of BGR if decoded whole."""
    pixels = cv2.resize(cv2.imread(str(PHOTOS / "street-010.jpg")), (width, height))
    return cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def header_far_in_jpeg(padding: int = 100_000) -> bytes:
    """A photograph with `padding` bytes of APP15 segments (as an ICC profile or maker
    notes take) before its frame header: the header is past the first 64 KiB."""
    photo = (PHOTOS / "astronaut.jpg").read_bytes()
    segment = b"\xff\xef" + struct.pack(">H", 65_000 + 2) + bytes(65_000)
    segments = segment * (padding // 65_000 + 1)
    return photo[:2] + segments + photo[2:]


def _photo() -> Image.Image:
    return Image.open(PHOTOS / "astronaut.jpg").convert("RGB")


def _in_format(format: str) -> Callable[[], bytes]:
    return lambda: _encoded(_photo(), format)


def _encoded(image: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


# name: (how the bytes are made, the outcome they must have with DETECTORS)
CORPUS: dict[str, tuple[Callable[[], bytes], Outcome]] = {
    "bomb-png": (bomb_png, REFUSED_UNREAD["too_large"]),
    "bomb-jpeg": (bomb_jpeg, REFUSED_UNREAD["too_large"]),
    "zero-bytes": (lambda: b"", REFUSED_UNREAD["not_image"]),
    "wrong-magic": (lambda: b"MZ\x90\x00 not an image, an executable's start" * 40,
                    REFUSED_UNREAD["not_image"]),
    # Rekognition takes JPEG and PNG only; OpenCV would decode these, so the local models
    # would label what Rekognition refuses: all refuse them.
    "gif-as-jpg": (_in_format("GIF"), REFUSED_UNREAD["not_image"]),
    "webp-as-jpg": (_in_format("WEBP"), REFUSED_UNREAD["not_image"]),
    # The header is whole, so only a decoder finds the cut: the stub (like Rekognition on
    # some cut files) labels it, the local models refuse it.
    "truncated-jpeg": (truncated_jpeg, Outcome("not_image", frozenset({"aws-rekognition"}),
                                               True)),
    "cmyk-jpeg": (cmyk_jpeg, LABELLED),
    "16-bit-png": (deep_png, LABELLED),
    "large-jpeg": (large_jpeg, LABELLED),
    "header-far-in": (header_far_in_jpeg, LABELLED),
}


@cache
def content(name: str) -> bytes:
    return CORPUS[name][0]()


def items() -> Iterator[tuple[str, bytes, Outcome]]:
    for name, (_, outcome) in CORPUS.items():
        yield name, content(name), outcome
