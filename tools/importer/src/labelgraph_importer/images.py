"""Reading a still from disk: what kind of image it is, its bytes and hashes, and what it
says about its capture time (EXIF through exifread, its name, its modification time)."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import exifread

from labelgraph_importer.capture import TimeClues

# Cameras' stills are a few MB (an 8K JPEG is about 10 MB); the whole file is held to hash
# and upload it, so a file far larger is not a still and is not read.
MAX_IMAGE_BYTES = 50 * 1024 * 1024


class ImageKind(Enum):
    """The kinds the labeler takes, with their content type and the key's extension."""

    JPEG = ("image/jpeg", ".jpg", (".jpg", ".jpeg"), b"\xff\xd8\xff")
    PNG = ("image/png", ".png", (".png",), b"\x89PNG\r\n\x1a\n")

    def __init__(self, content_type: str, extension: str, file_extensions: tuple[str, ...],
                 magic: bytes) -> None:
        self.content_type = content_type
        self.extension = extension
        self.file_extensions = file_extensions
        self.magic = magic


class FileRefusal(ValueError):
    """A file that is not a still the labeler takes; `reason` names the kind of refusal."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class LocalImage:
    """A still read from disk, ready to be keyed and compared with what the bucket holds."""

    content: bytes
    kind: ImageKind
    md5: str
    sha256: str
    clues: TimeClues


def read_image(path: Path) -> LocalImage:
    """The still at `path`, or FileRefusal saying why it cannot be imported."""
    if not path.is_file():  # nor a FIFO, which would block the read
        raise FileRefusal("unreadable", "no such file" if not path.exists()
                          else "not a regular file")
    kind = kind_by_name(path.name)
    try:
        with path.open("rb") as file:
            # One byte over the bound tells a file too large without reading all of it.
            content = file.read(MAX_IMAGE_BYTES + 1)
            modified = os.fstat(file.fileno()).st_mtime
    except OSError as error:
        raise FileRefusal("unreadable", error.strerror or type(error).__name__) from None
    if len(content) > MAX_IMAGE_BYTES:
        raise FileRefusal("too_large", f"over {MAX_IMAGE_BYTES} bytes")
    if not content.startswith(kind.magic):
        raise FileRefusal("not_an_image", f"named {kind.name} but its bytes are not one")
    original, offset = exif_times(content) if kind is ImageKind.JPEG else (None, None)
    # MD5 is what S3's ETag of a single-part upload is; SHA-256 is the importer's own record.
    return LocalImage(content, kind, hashlib.md5(content, usedforsecurity=False).hexdigest(),
                      hashlib.sha256(content).hexdigest(),
                      TimeClues(path.name, modified, original, offset))


def kind_by_name(file_name: str) -> ImageKind:
    """JPEG or PNG by the file's extension, or FileRefusal for any other file."""
    extension = Path(file_name).suffix.lower()
    for kind in ImageKind:
        if extension in kind.file_extensions:
            return kind
    raise FileRefusal("not_an_image", f"{extension or 'no extension'}: only JPEG and PNG "
                      "(.jpg, .jpeg, .png) are labelled")


def exif_times(content: bytes) -> tuple[str | None, str | None]:
    """DateTimeOriginal and OffsetTimeOriginal as written, or None where absent."""
    try:
        tags = exifread.process_file(io.BytesIO(content), details=False,
                                     extract_thumbnail=False)
    except Exception:  # a mangled EXIF is no EXIF: the next rule decides
        return None, None
    return _text(tags.get("EXIF DateTimeOriginal")), _text(tags.get("EXIF OffsetTimeOriginal"))


def _text(tag: object) -> str | None:
    # Bounded: the value is outside text, only ever parsed as a short time.
    return str(tag)[:40] if tag is not None else None
