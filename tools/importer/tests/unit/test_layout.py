from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from labelgraph_importer.layout import (
    FILE_NAME_MAX_CHARS,
    LayoutRefusal,
    check_camera,
    key_name,
    object_key,
    shown,
)
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN
from labelgraph_labeler.domain import KeyLayout, StoredImage

LA = ZoneInfo("America/Los_Angeles")
TAKEN = datetime(2017, 1, 5, 16, 51, 17, tzinfo=LA)
LABELER = KeyLayout.from_settings(DEFAULT_KEY_PATTERN, "America/Los_Angeles")


def test_a_cameras_own_name_keeps_the_key_the_camera_would_have_used():
    assert object_key("frontdoor", TAKEN, "mdalarm_20170105-165117.jpg", ".jpg", LA) \
        == "alarms/frontdoor/2017-01-05/16/mdalarm_20170105-165117.jpg"


def test_date_hour_and_stamp_are_on_the_cameras_clock():
    key = object_key("frontdoor", datetime(2017, 1, 6, 0, 51, 17, tzinfo=UTC), "IMG_1.JPG",
                     ".jpg", LA)
    assert key == "alarms/frontdoor/2017-01-05/16/IMG_1_20170105-165117.jpg"


@pytest.mark.parametrize(("file_name", "name"), [
    ("IMG 0001 (copy).JPG", "IMG-0001-copy"),
    ("a%2F+b?&#.jpeg", "a-2F-b"),
    ("名前.jpg", "camera-1"),  # nothing of it is left: named after the camera
    ("_20170105-165117.jpg", "camera-1"),
    ("....jpg", "camera-1"),
    ("\udcff\udcfe.jpg", "camera-1"),  # bytes no encoding decodes
    ("old_20160101-101010.png", "old"),
    ("-rf.jpg", "rf"),
])
def test_hostile_names_become_keys_the_labeler_reads_as_meant(file_name, name):
    key = object_key("camera-1", TAKEN, file_name, ".jpg", LA)
    assert key == f"alarms/camera-1/2017-01-05/16/{name}_20170105-165117.jpg"
    stored = StoredImage("security-alarms", key, "etag", datetime(2030, 1, 1, tzinfo=UTC))
    assert LABELER.camera(key) == "camera-1"
    assert LABELER.captured_at(stored) == TAKEN


@pytest.mark.parametrize("file_name", ["bad\nname.jpg", "\x1b[31mred.jpg", "tab\t.jpg",
                                       "nul\x00.jpg", "del\x7f.jpg", "c1\x85.jpg"])
def test_control_characters_are_refused_and_shown_escaped(file_name):
    with pytest.raises(LayoutRefusal, match="control characters") as refused:
        key_name(file_name)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in str(refused.value))


def test_a_name_longer_than_a_cameras_is_refused():
    assert key_name("a" * (FILE_NAME_MAX_CHARS - 4) + ".jpg")
    with pytest.raises(LayoutRefusal, match="characters"):
        key_name("a" * (FILE_NAME_MAX_CHARS - 3) + ".jpg")


@pytest.mark.parametrize("camera", ["front/door", "", "..", "-x", "front door", "a" * 65,
                                    "cam\n", "über"])
def test_camera_names_the_layout_cannot_hold_are_refused(camera):
    with pytest.raises(LayoutRefusal, match="is not a camera name"):
        check_camera(camera)


@pytest.mark.parametrize("camera", ["frontdoor", "cam_2", "Back-Yard", "a" * 64])
def test_plain_camera_names_pass(camera):
    assert check_camera(camera) == camera


def test_shown_escapes_and_bounds_outside_text():
    assert shown("a\nb\x1b") == "a\\nb\\x1b"
    assert shown("x" * 500, 20) == "x" * 17 + "..."
    assert shown("/a" * 100 + "/still.jpg", 20, keep_end=True) == "...a/a/a/a/still.jpg"
