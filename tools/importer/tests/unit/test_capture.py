from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from labelgraph_importer.capture import TimeClues, TimeSource, capture_time

LA = ZoneInfo("America/Los_Angeles")
# 2017-01-05 16:51:17 in Los Angeles (PST, -08:00), as epoch seconds.
WINTER_EPOCH = datetime(2017, 1, 5, 16, 51, 17, tzinfo=LA).timestamp()


def clues(name: str = "IMG_0001.jpg", mtime: float = WINTER_EPOCH, original: str | None = None,
          offset: str | None = None) -> TimeClues:
    return TimeClues(name, mtime, original, offset)


def test_exif_with_its_offset_is_the_exact_instant_on_the_cameras_clock():
    found = capture_time(clues(original="2017:01:05 16:51:17", offset="+01:00"), LA)
    assert found is not None and found.source is TimeSource.EXIF
    assert found.moment == datetime(2017, 1, 5, 15, 51, 17, tzinfo=UTC)
    assert found.moment.isoformat() == "2017-01-05T07:51:17-08:00"


@pytest.mark.parametrize(("original", "offset", "expected"), [
    ("2017:01:05 16:51:17", None, "2017-01-05T16:51:17-08:00"),
    ("2017:07:05 16:51:17", None, "2017-07-05T16:51:17-07:00"),  # the clock's summer time
    ("2017:01:05 16:51:17", "+25:00", "2017-01-05T16:51:17-08:00"),  # no real offset
    ("2017-01-05 16:51:17\x00", "", "2017-01-05T16:51:17-08:00"),
])
def test_exif_without_a_readable_offset_is_on_the_cameras_clock(original, offset, expected):
    found = capture_time(clues(original=original, offset=offset), LA)
    assert found is not None and found.source is TimeSource.EXIF_CAMERA_CLOCK
    assert found.moment.isoformat() == expected


@pytest.mark.parametrize("original", ["0000:00:00 00:00:00", "1970:01:01 00:00:05",
                                      "2017:13:05 16:51:17", "yesterday", ""])
def test_an_exif_time_that_is_no_time_gives_way_to_the_file_name(original):
    found = capture_time(clues("mdalarm_20170105-165117.jpg", original=original,
                               offset="+01:00"), LA)
    assert found is not None and found.source is TimeSource.FILE_NAME
    assert found.moment.isoformat() == "2017-01-05T16:51:17-08:00"


def test_the_last_stamp_of_a_file_name_is_its_time():
    found = capture_time(clues("front_20160101-000000_20170105-165117.jpg"), LA)
    assert found is not None and found.moment == datetime(2017, 1, 5, 16, 51, 17, tzinfo=LA)


@pytest.mark.parametrize("name", ["mdalarm_20171305-165117.jpg",  # month 13
                                  "cam_120170105-165117.jpg",  # digits run on
                                  "20170105_165117.jpg", "IMG_0001.jpg"])
def test_without_a_stamp_the_modification_time_decides(name):
    found = capture_time(clues(name, mtime=WINTER_EPOCH + 0.75), LA)
    assert found is not None and found.source is TimeSource.MODIFIED_TIME
    assert found.moment.isoformat() == "2017-01-05T16:51:17-08:00"  # whole seconds


def test_no_time_from_2000_to_2100_is_none():
    assert capture_time(clues("IMG_0001.jpg", mtime=5.0, original="1999:12:31 23:59:59"),
                        LA) is None
    assert capture_time(clues(mtime=1e20), LA) is None  # beyond what a datetime holds


def test_a_time_behind_utc_is_later_in_utc():
    found = capture_time(clues(original="2017:01:05 16:51:17", offset="-05:30"), LA)
    assert found is not None
    assert found.moment - datetime(2017, 1, 5, 16, 51, 17, tzinfo=UTC) \
        == timedelta(hours=5, minutes=30)
