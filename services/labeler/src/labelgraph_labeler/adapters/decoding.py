"""Image bytes to the pixels a local model reads: decoded once, checked, bounded in size."""

from __future__ import annotations

import cv2
import numpy as np

from labelgraph_labeler.domain import ImageRejected

# Rekognition's own bound for an image in S3, so every detector refuses the same uploads.
MAX_IMAGE_BYTES = 15 * 1024 * 1024
# The longer side models see. Security stills are 640x480 to 1920x1080: anything bigger is
# downscaled (SSD looks at 300x300 anyway, HOG's cost grows with the pixels).
MAX_SIDE = 1280


def decode_image(content: bytes, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """The image as 8-bit BGR (grey and alpha images too), its longer side at most max_side."""
    if not content:
        raise ImageRejected("the object is empty (zero bytes)", "not_image")
    if len(content) > MAX_IMAGE_BYTES:
        raise ImageRejected(f"{len(content):,} bytes, over the {MAX_IMAGE_BYTES:,} a detector "
                            "takes", "too_large")
    # OpenCV 4.14 returns None for a truncated JPEG or PNG too, not a half-grey picture.
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageRejected("not an image OpenCV can decode (or a truncated one)", "not_image")
    return downscaled(image, max_side)


def downscaled(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return image
    ratio = max_side / longer
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
