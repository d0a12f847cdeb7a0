"""Image bytes to the pixels a local model reads: decoded once, checked, bounded in size."""

from __future__ import annotations

import cv2
import numpy as np

from labelgraph_labeler.adapters.s3 import ImageHeader, image_header
from labelgraph_labeler.domain import ImageRejected

# Rekognition's own bound for an image in S3, so every detector refuses the same uploads.
MAX_IMAGE_BYTES = 15 * 1024 * 1024
# The longer side models see. Security stills are 640x480 to 1920x1080: anything bigger is
# downscaled (SSD looks at 300x300 anyway, HOG's cost grows with the pixels).
MAX_SIDE = 1280
# libjpeg decodes at 1/2, 1/4 or 1/8 of the size by DCT scaling, never holding the
# full-size pixels: a 24 MP still is read as 6 MP or less instead of 72 MB of BGR.
JPEG_REDUCTIONS = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                   (2, cv2.IMREAD_REDUCED_COLOR_2))


def decode_image(content: bytes, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """The image as 8-bit BGR (grey and alpha images too), its longer side at most max_side."""
    if not content:
        raise ImageRejected("the object is empty (zero bytes)", "not_image")
    if len(content) > MAX_IMAGE_BYTES:
        raise ImageRejected(f"{len(content):,} bytes, over the {MAX_IMAGE_BYTES:,} a detector "
                            "takes", "too_large")
    header = image_header(content)
    if header is None:
        raise ImageRejected("no JPEG or PNG header", "not_image")
    # OpenCV 4.14 returns None for a JPEG or PNG truncated in its first scan too.
    image = cv2.imdecode(np.frombuffer(content, np.uint8), read_mode(header, max_side))
    if image is None:
        raise ImageRejected("not an image OpenCV can decode (or a truncated one)", "not_image")
    return downscaled(image, max_side)


def read_mode(header: ImageHeader, max_side: int) -> int:
    """How to decode: a JPEG at the largest reduction that keeps its longer side at least
    max_side (downscaled() does the rest, as for any image); a PNG whole (OpenCV would
    decode it whole and then shrink it coarsely)."""
    longer = max(header.width, header.height)
    if header.format != "PNG":
        for factor, mode in JPEG_REDUCTIONS:
            if longer / factor >= max_side:
                return mode
    return cv2.IMREAD_COLOR


def downscaled(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return image
    ratio = max_side / longer
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
