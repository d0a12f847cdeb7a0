"""Stills made on the spot with Pillow: a JPEG with the EXIF times a test asks for, a PNG,
each of its own colour (so of its own bytes), with the modification time a test sets."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

# Exif IFD and its two tags (EXIF 2.31): DateTimeOriginal and OffsetTimeOriginal.
EXIF_IFD, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011

MakeStill = Callable[..., Path]


def still_bytes(seed: int = 0, original: str | None = None, offset: str | None = None,
                image_format: str = "JPEG") -> bytes:
    image = Image.new("RGB", (64, 48), (seed * 37 % 256, seed * 91 % 256, 120))
    exif = Image.Exif()
    if original is not None:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = original
    if offset is not None:
        exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] = offset
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, exif=exif)
    return buffer.getvalue()


@pytest.fixture
def make_still(tmp_path: Path) -> MakeStill:
    """make_still(name, seed=, original=, offset=, mtime=, image_format=, folder=) -> path."""
    def make(name: str, *, seed: int = 0, original: str | None = None,
             offset: str | None = None, mtime: float | None = None,
             image_format: str = "JPEG", folder: Path | None = None) -> Path:
        path = (folder or tmp_path / "stills") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(still_bytes(seed, original, offset, image_format))
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path
    return make
