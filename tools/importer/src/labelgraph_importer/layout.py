"""The cameras' object-key layout, as the labeler parses it (its DEFAULT_KEY_PATTERN):
`alarms/<camera>/<YYYY-MM-DD>/<HH>/<name>_<YYYYMMDD-HHMMSS>.jpg`, every part on the camera's
clock. Plain Python, no I/O.

A file name is outside text: it reaches S3 keys, terminals and logs. It is bounded, and what
the layout cannot hold is refused with a reason rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

KEY_ROOT = "alarms"
# Camera names go into keys, table rows, metrics and the graph: a short plain word.
CAMERA_NAME_MAX_CHARS = 64
_CAMERA_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{CAMERA_NAME_MAX_CHARS - 1}}}")
# Cameras name stills in a few tens of characters; a longer name is not a camera's.
FILE_NAME_MAX_CHARS = 120
# What a key's name part keeps as it is: characters no URL, shell or log needs to quote.
_OUTSIDE_SAFE_SET = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The stem's own stamp (and the separator before it) gives way to the capture time's.
_TRAILING_STAMP = re.compile(r"[_-]?\d{8}-\d{6}$")


class LayoutRefusal(ValueError):
    """A name the layout cannot hold; the message says why."""


def check_camera(name: str) -> str:
    """The camera name, or LayoutRefusal saying what a camera name may be."""
    if not _CAMERA_NAME.fullmatch(name):
        raise LayoutRefusal(
            f"camera {shown(name, 40)} is not a camera name: 1 to {CAMERA_NAME_MAX_CHARS} "
            "letters, digits, '-' or '_', starting with a letter or digit")
    return name


def object_key(camera: str, captured_at: datetime, file_name: str, extension: str,
               camera_zone: ZoneInfo) -> str:
    """The key of a still: the capture time on the camera's clock names its folder and stamp."""
    local = captured_at.astimezone(camera_zone)
    name = key_name(file_name) or camera
    return (f"{KEY_ROOT}/{check_camera(camera)}/{local:%Y-%m-%d}/{local:%H}/"
            f"{name}_{local:%Y%m%d-%H%M%S}{extension}")


def folder_of(key: str) -> str:
    """The hour's folder of a key (`alarms/<camera>/<date>/<hour>/`)."""
    return key.rsplit("/", 1)[0] + "/"


def key_name(file_name: str) -> str:
    """A file name's part of the key: its stem without its own stamp, characters outside
    letters, digits, '.', '-' and '_' made '-'. Empty when nothing is left (the caller
    names the still after its camera); LayoutRefusal for a name no camera writes."""
    if _CONTROL.search(file_name):
        raise LayoutRefusal(f"file name {shown(file_name)} has control characters")
    if len(file_name) > FILE_NAME_MAX_CHARS:
        raise LayoutRefusal(
            f"file name of {len(file_name)} characters (at most {FILE_NAME_MAX_CHARS})")
    stem = file_name.rsplit(".", 1)[0] if "." in file_name[1:] else file_name
    stem = _TRAILING_STAMP.sub("", stem)
    return _OUTSIDE_SAFE_SET.sub("-", stem).strip(".-")


def shown(text: str, limit: int = 80, keep_end: bool = False) -> str:
    """Outside text fit for a terminal or a log line: escaped, and cut to `limit` characters
    (of a path, its start goes: the file name is what tells which file it was)."""
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    if len(escaped) <= limit:
        return escaped
    return "..." + escaped[3 - limit:] if keep_end else escaped[:limit - 3] + "..."
