"""When a still was taken: the rules, in the order they are trusted. Plain Python, no I/O.

The EXIF DateTimeOriginal (with OffsetTimeOriginal, the exact instant), else the stamp in the
file name (cameras name stills `mdalarm_20170105-165117.jpg`), else the file's modification
time. A time without an offset is on the camera's clock (CAMERA_TIMEZONE), as the labeler
reads it. A candidate outside the contract's years (a camera whose clock was reset to 1970,
or an EXIF of zeros) is passed over for the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

from labelgraph_contract.bounds import FIRST_YEAR, LAST_YEAR

# Cameras write the stamp as YYYYMMDD-HHMMSS; digits around it belong to something else.
_FILE_NAME_STAMP = re.compile(r"(?<!\d)(\d{8}-\d{6})(?!\d)")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
# EXIF writes times as "YYYY:MM:DD HH:MM:SS"; some cameras use dashes in the date.
_EXIF_FORMATS = ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S")
_LONGEST_OFFSET = timedelta(hours=14)  # the widest real time zone


class TimeSource(StrEnum):
    """Where a capture time came from, as the summary and the object's metadata name it."""

    EXIF = "exif"  # DateTimeOriginal with its OffsetTimeOriginal
    EXIF_CAMERA_CLOCK = "exif-camera-clock"  # DateTimeOriginal without offset
    FILE_NAME = "file-name"
    MODIFIED_TIME = "modified-time"


@dataclass(frozen=True)
class TimeClues:
    """What a file says about its capture time, as read from it (any of it may be junk)."""

    file_name: str
    modified_epoch: float
    exif_original: str | None = None
    exif_offset: str | None = None


@dataclass(frozen=True)
class CaptureTime:
    """A capture time on the camera's clock (aware, whole seconds) and where it came from."""

    moment: datetime
    source: TimeSource


def capture_time(clues: TimeClues, camera_zone: ZoneInfo) -> CaptureTime | None:
    """The most trusted readable capture time within the contract's years, or None."""
    candidates = (
        _from_exif(clues.exif_original, clues.exif_offset, camera_zone),
        _from_file_name(clues.file_name, camera_zone),
        _from_modified_time(clues.modified_epoch, camera_zone),
    )
    for candidate in candidates:
        if candidate is not None and _within_contract(candidate.moment):
            return candidate
    return None


def _from_exif(original: str | None, offset: str | None,
               camera_zone: ZoneInfo) -> CaptureTime | None:
    naive = _parse_exif_time(original)
    if naive is None:
        return None
    exact = _parse_exif_offset(offset)
    if exact is None:
        # An unreadable offset says no more than a missing one: the camera's own clock.
        return CaptureTime(naive.replace(tzinfo=camera_zone), TimeSource.EXIF_CAMERA_CLOCK)
    return CaptureTime(naive.replace(tzinfo=exact).astimezone(camera_zone), TimeSource.EXIF)


def _parse_exif_time(text: str | None) -> datetime | None:
    # Cameras pad the field with NULs or spaces, and write zeros when the clock was never set.
    cleaned = (text or "").strip("\x00 ")[:19]
    for layout in _EXIF_FORMATS:
        try:
            return datetime.strptime(cleaned, layout)
        except ValueError:
            continue
    return None


def _parse_exif_offset(text: str | None) -> timezone | None:
    match = _EXIF_OFFSET.fullmatch((text or "").strip("\x00 "))
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    span = timedelta(hours=int(hours), minutes=int(minutes))
    if span > _LONGEST_OFFSET or int(minutes) > 59:
        return None
    return timezone(-span if sign == "-" else span)


def _from_file_name(name: str, camera_zone: ZoneInfo) -> CaptureTime | None:
    stamps = _FILE_NAME_STAMP.findall(name)
    if not stamps:
        return None
    try:
        # The last stamp: a copy named `IMG_20170105-165117_20170106-080000` was renamed
        # with its newer time appended.
        naive = datetime.strptime(stamps[-1], "%Y%m%d-%H%M%S")
    except ValueError:  # a month 13 or a 25th hour: a number, not a time
        return None
    return CaptureTime(naive.replace(tzinfo=camera_zone), TimeSource.FILE_NAME)


def _from_modified_time(epoch: float, camera_zone: ZoneInfo) -> CaptureTime | None:
    try:
        moment = datetime.fromtimestamp(epoch, camera_zone)
    except (OverflowError, OSError, ValueError):
        return None
    return CaptureTime(moment.replace(microsecond=0), TimeSource.MODIFIED_TIME)


def _within_contract(moment: datetime) -> bool:
    return FIRST_YEAR <= moment.year <= LAST_YEAR
