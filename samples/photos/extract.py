"""Makes samples/photos from photographs that ship inside packages. Run once, by hand.

Not part of the project: it runs in a throwaway venv, never the project's, and its output is
committed. It reproduces the committed files with the versions README.md names:

    python3 -m venv /tmp/photos-venv
    /tmp/photos-venv/bin/pip install scikit-image matplotlib opencv-python-headless
    cd /tmp && apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb /tmp/opencv-doc
    /tmp/photos-venv/bin/python samples/photos/extract.py

Every photograph is saved as JPEG (cameras upload JPEG) and listed in truth.json with
whether a person is truly in it, where it came from and its licence.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import skimage

HERE = Path(__file__).resolve().parent
VTEST = Path("/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi")
JPEG_QUALITY = 80
STILLS_WITH_PEOPLE = 24
STILLS_WITHOUT_PEOPLE = 12
# Every 5th frame for the median: ~160 frames, enough that each pixel shows the street
# more often than a passer-by.
MEDIAN_FRAME_STEP = 5

SKIMAGE_LICENCES = {
    "astronaut.png": ("Eileen Collins, NASA Great Images database (scikit-image data)",
                      "public domain"),
    "camera.png": ("Lav Varshney (scikit-image data)", "CC0"),
    "coffee.png": ("Rachel Michetti, courtesy of Pikolo Espresso Bar (scikit-image data)",
                   "CC0"),
    "chelsea.png": ("Stefan van der Walt (scikit-image data)", "CC0"),
    "rocket.jpg": ("SpaceX, DSCOVR on Falcon 9 (scikit-image data)", "public domain"),
    "horse.png": ("Andreas Preuss (marauder), openclipart (scikit-image data)", "CC0"),
}
SKIMAGE_PEOPLE = {"astronaut.png", "camera.png"}
VTEST_SOURCE = "OpenCV sample data vtest.avi (Debian opencv-doc 4.6.0+dfsg-12)"
VTEST_LICENCE = "Apache-2.0 AND BSD-3-Clause (OpenCV; debian/copyright, Files: *)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vtest", type=Path, default=VTEST)
    parser.add_argument("--output", type=Path, default=HERE)
    args = parser.parse_args()
    truth: dict[str, dict[str, object]] = {}
    truth |= save_package_photos(args.output)
    frames = read_frames(args.vtest)
    truth |= save_street_stills(frames, args.output)
    truth |= save_empty_street_stills(street_background(frames), args.output)
    (args.output / "truth.json").write_text(json.dumps(dict(sorted(truth.items())), indent=2)
                                            + "\n")


def save_package_photos(output: Path) -> dict[str, dict[str, object]]:
    truth = {}
    skimage_data = Path(skimage.__file__).parent / "data"
    for name, (source, licence) in SKIMAGE_LICENCES.items():
        target = Path(name).with_suffix(".jpg").name
        write_jpeg(output / target, cv2.imread(str(skimage_data / name), cv2.IMREAD_UNCHANGED))
        truth[target] = entry(name in SKIMAGE_PEOPLE, f"{source}: {name}", licence)
    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    write_jpeg(output / "grace_hopper.jpg", cv2.imread(str(hopper)))
    truth["grace_hopper.jpg"] = entry(
        True, "Grace Hopper, US Navy photograph (matplotlib sample_data/grace_hopper.jpg)",
        "public domain")
    return truth


def read_frames(video: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    if not frames:
        raise SystemExit(f"{video}: no frames (is opencv-doc extracted?)")
    return frames


def save_street_stills(frames: list[np.ndarray], output: Path) -> dict[str, dict[str, object]]:
    truth = {}
    for index in np.linspace(10, len(frames) - 10, STILLS_WITH_PEOPLE).round().astype(int):
        name = f"street-{index:03d}.jpg"
        write_jpeg(output / name, frames[index])
        truth[name] = entry(True, f"{VTEST_SOURCE}, frame {index}", VTEST_LICENCE)
    return truth


def street_background(frames: list[np.ndarray]) -> np.ndarray:
    """The per-pixel median over many frames: the street with nobody in it."""
    stack = np.stack(frames[::MEDIAN_FRAME_STEP])
    rows = [np.median(stack[:, top:top + 64], axis=0) for top in range(0, stack.shape[1], 64)]
    return np.concatenate(rows, axis=0).round().astype(np.uint8)


def save_empty_street_stills(background: np.ndarray,
                             output: Path) -> dict[str, dict[str, object]]:
    """What wind and headlights upload: the empty street in changed light, noisy, shaken."""
    truth = {}
    write_jpeg(output / "empty-street-median.jpg", background)
    truth["empty-street-median.jpg"] = entry(
        False, f"{VTEST_SOURCE}: per-pixel median of every {MEDIAN_FRAME_STEP}th frame",
        VTEST_LICENCE)
    rng = np.random.default_rng(11)
    for number in range(1, STILLS_WITHOUT_PEOPLE + 1):
        name = f"empty-street-{number:02d}.jpg"
        write_jpeg(output / name, wind_and_headlights(background, rng))
        truth[name] = entry(False, f"{VTEST_SOURCE}: the median background with changed "
                            "brightness, a headlight glare, noise, blur and a shift",
                            VTEST_LICENCE)
    return truth


def wind_and_headlights(background: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = background.shape[:2]
    image = background.astype(np.float32) * rng.uniform(0.45, 1.35) + rng.uniform(-25, 25)
    # A headlight: a warm white glare fading from a random point.
    y, x = np.mgrid[0:height, 0:width]
    cy, cx = rng.uniform(0.2, 0.9) * height, rng.uniform(0, 1) * width
    radius = rng.uniform(40, 160)
    glare = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))[..., None]
    image += glare * rng.uniform(120, 255) * np.array([0.85, 0.95, 1.0], np.float32)
    image += rng.normal(0, rng.uniform(3, 12), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    kernel = int(rng.choice([1, 3, 5]))
    if kernel > 1:
        image = cv2.GaussianBlur(image, (kernel, kernel), 0)
    # The camera shaking in the wind: a shift of a few pixels.
    shift = np.float32([[1, 0, rng.integers(-6, 7)], [0, 1, rng.integers(-6, 7)]])
    return cv2.warpAffine(image, shift, (width, height), borderMode=cv2.BORDER_REFLECT)


def write_jpeg(path: Path, image: np.ndarray) -> None:
    if image.dtype == bool or image.max() <= 1:
        image = (image > 0).astype(np.uint8) * 255
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise SystemExit(f"{path}: JPEG encoding failed")
    path.write_bytes(encoded.tobytes())


def entry(person: bool, source: str, licence: str) -> dict[str, object]:
    return {"person": person, "source": source, "licence": licence}


if __name__ == "__main__":
    main()
