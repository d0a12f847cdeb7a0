"""Importing stills for one camera: each file read, timed, keyed, compared with what the
bucket holds, and uploaded only when it is new. Runs over any ImageStore.

Idempotent by design: a still whose key holds the same bytes is skipped, and so is one whose
bytes are already in its hour's folder under another name with the same stamp (a copy of a
still has the same capture time, so its twin is in that folder: one listing per hour, no
index of the whole bucket). A different image that would take a key is refused, never
written over (S3 itself refuses the put: If-None-Match).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from labelgraph_importer.capture import CaptureTime, TimeSource, capture_time
from labelgraph_importer.images import FileRefusal, LocalImage, read_image
from labelgraph_importer.layout import LayoutRefusal, folder_of, object_key, shown
from labelgraph_importer.store import ImageStore, StoredObject

# User metadata the importer writes: the labeler reads camera_timestamp (ISO 8601 with its
# offset, so the capture time is exact); the other two are the importer's own record.
TIMESTAMP_METADATA = "camera_timestamp"
SHA256_METADATA = "content_sha256"
SOURCE_METADATA = "capture_time_source"
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
PATH_SHOWN_CHARS = 160


class Action(StrEnum):
    """What became of one file."""

    IMPORTED = "imported"
    WOULD_IMPORT = "would import"  # a dry run's imported
    SKIPPED = "skipped"
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """One file's result; `path` is already fit for a terminal (see layout.shown)."""

    path: str
    action: Action
    key: str | None = None
    source: TimeSource | None = None
    reason: str = ""
    detail: str = ""


@dataclass
class Summary:
    """Counts over a run: actions, capture-time sources, refusal reasons."""

    actions: Counter[Action] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.actions[outcome.action] += 1
        if outcome.source is not None:
            self.sources[outcome.source.value] += 1
        if outcome.action is Action.REFUSED:
            self.refusals[outcome.reason] += 1

    @property
    def files(self) -> int:
        return sum(self.actions.values())

    @property
    def refused(self) -> int:
        return self.actions[Action.REFUSED]


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path given, and the files inside each folder given (sorted, walked through
    subfolders, leaving out hidden ones such as .DS_Store that shares and Macs leave)."""
    for path in paths:
        if not path.is_dir():
            yield path  # a missing one is refused when read, with the reason
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            yield from (Path(folder, name) for name in sorted(names) if not name.startswith("."))


class Importer:
    """Imports files for one camera into one store; remembers what it saw of the bucket."""

    def __init__(self, store: ImageStore, camera: str, camera_zone: ZoneInfo,
                 dry_run: bool = False) -> None:
        self._store, self._camera, self._zone = store, camera, camera_zone
        self.dry_run = dry_run
        self._folders: dict[str, dict[str, StoredObject]] = {}
        self._hashes: dict[str, str | None] = {}

    def import_file(self, path: Path) -> Outcome:
        """Import one file, or say why it was skipped or refused."""
        name = shown(str(path), PATH_SHOWN_CHARS, keep_end=True)
        try:
            image = read_image(path)
            when = capture_time(image.clues, self._zone)
            if when is None:
                raise FileRefusal("no_capture_time", "no EXIF, file-name stamp or "
                                  "modification time from 2000 to 2100")
            key = object_key(self._camera, when.moment, path.name, image.kind.extension,
                             self._zone)
        except FileRefusal as refusal:
            return Outcome(name, Action.REFUSED, reason=refusal.reason, detail=str(refusal))
        except LayoutRefusal as refusal:
            return Outcome(name, Action.REFUSED, reason="file_name", detail=str(refusal))
        return self._place(name, image, when, key)

    def _place(self, name: str, image: LocalImage, when: CaptureTime, key: str) -> Outcome:
        twin = self._stored_twin(image, key)
        if twin is not None:
            # The key shown is the twin's: what a reader looks up.
            detail = "already imported" if twin == key else "a copy: the same image under " \
                "another name"
            return Outcome(name, Action.SKIPPED, twin, when.source, "same_content", detail)
        if key in self._folder(key):
            return self._key_taken(name, key, when)
        if self.dry_run:
            self._remember(key, image)
            return Outcome(name, Action.WOULD_IMPORT, key, when.source)
        if not self._store.put_new(key, image.content, image.kind.content_type,
                                   upload_metadata(image, when, self._zone)):
            return self._lost_race(name, image, key, when)
        self._remember(key, image)
        return Outcome(name, Action.IMPORTED, key, when.source)

    def _lost_race(self, name: str, image: LocalImage, key: str, when: CaptureTime) -> Outcome:
        # Another upload took the key since the folder was listed: look again.
        self._folders.pop(folder_of(key), None)
        self._hashes.pop(key, None)
        if self._stored_twin(image, key) == key:
            return Outcome(name, Action.SKIPPED, key, when.source, "same_content",
                           "already imported")
        return self._key_taken(name, key, when)

    def _key_taken(self, name: str, key: str, when: CaptureTime) -> Outcome:
        return Outcome(name, Action.REFUSED, key, when.source, "key_taken",
                       f"a different image is stored as {key}; it is left as it is")

    def _stored_twin(self, image: LocalImage, key: str) -> str | None:
        """The key of an object of the same bytes and stamp in the key's folder, if any
        (the key itself first)."""
        folder = self._folder(key)
        candidates = sorted(k for k in folder if k != key and _same_stamp(k, key))
        for candidate in ([key] if key in folder else []) + candidates:
            if folder[candidate].etag == image.md5 or self._sha256(candidate) == image.sha256:
                return candidate
        return None

    def _folder(self, key: str) -> dict[str, StoredObject]:
        prefix = folder_of(key)
        if prefix not in self._folders:
            self._folders[prefix] = {item.key: item for item in self._store.list_folder(prefix)}
        return self._folders[prefix]

    def _sha256(self, key: str) -> str | None:
        # An ETag is no MD5 for multipart or KMS-encrypted objects: the hash we wrote is.
        if key not in self._hashes:
            self._hashes[key] = (self._store.metadata(key) or {}).get(SHA256_METADATA)
        return self._hashes[key]

    def _remember(self, key: str, image: LocalImage) -> None:
        self._folder(key)[key] = StoredObject(key, image.md5)
        self._hashes[key] = image.sha256


def upload_metadata(image: LocalImage, when: CaptureTime, camera_zone: ZoneInfo) -> dict[str, str]:
    """The object's metadata: the capture time on the camera's clock with its offset."""
    return {TIMESTAMP_METADATA: when.moment.astimezone(camera_zone).isoformat(),
            SHA256_METADATA: image.sha256, SOURCE_METADATA: when.source.value}


def _same_stamp(candidate: str, key: str) -> bool:
    """Whether another key in the folder names a still of the same capture second."""
    stamp = key.rsplit("_", 1)[1].rsplit(".", 1)[0]
    stem, dot, extension = candidate.rpartition(".")
    return bool(dot) and extension.lower() in {e[1:] for e in _IMAGE_EXTENSIONS} \
        and stem.endswith(f"_{stamp}")
