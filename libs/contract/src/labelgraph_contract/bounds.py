"""The bounded value types of the contract: what each string, number and time may be.

Every bound is in the JSON Schema too (a pattern, a length, a minimum), so a consumer that
validates with the schema accepts what the model accepts, but for what JSON Schema cannot say
and the descriptions do: an object key's length in bytes, and that event_ts and capture_date
agree with captured_at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

# No C0 or C1 control character, nor DEL: names reach log lines, terminals and pages.
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f-\u009f]*$"

# S3 object keys are at most 1,024 bytes of UTF-8.
OBJECT_KEY_MAX_BYTES = 1024

# 256 characters are at most 1,024 bytes of UTF-8, DynamoDB's limit for a sort key (the label
# table's `label`), so any name fits any key; detector label names are a few words long.
NAME_MAX_CHARS = 256

# Times are written from 2000 to 2100 on their own clock, with an offset no wider than a real
# time zone's (-14:00 to +14:00). No camera of this system predates 2000 (a capture time in
# 1970 is a camera whose clock was reset, not a time); and in this range every conversion the
# time tree and the api make (to UTC, to another offset, a day before or after) stays inside
# what Python and JavaScript dates hold, and every instant is a positive epoch second. Years 1
# and 9999 with an offset were what broke them.
FIRST_YEAR, LAST_YEAR = 2000, 2100
_YEAR = r"(?:20[0-9]{2}|2100)"
_LEAP_YEAR = r"20(?:0[048]|[2468][048]|[13579][26])"  # 2100 is not one
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
              r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              r"|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_OFFSET = r"(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
DATE_PATTERN = rf"^{_DATE}$"
DATETIME_PATTERN = rf"^{_DATE}T{_TIME}{_OFFSET}$"
_DATE_RE = re.compile(DATE_PATTERN)
_DATETIME_RE = re.compile(DATETIME_PATTERN)

# The instants those times can name, as epoch seconds.
EPOCH_MIN = int(datetime.fromisoformat(f"{FIRST_YEAR}-01-01T00:00:00+14:00").timestamp())
EPOCH_MAX = int(datetime.fromisoformat(f"{LAST_YEAR}-12-31T23:59:59-14:00").timestamp())

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# S3's bucket rules, plus the capitals and underscores of old us-east-1 buckets.
BUCKET_PATTERN = r"^[A-Za-z0-9._-]{3,63}$"

_TIME_RULE = (f"RFC 3339 (e.g. 2016-11-05T07:15:30-07:00) from {FIRST_YEAR} to {LAST_YEAR}, "
              "with an offset from -14:00 to +14:00 and at most 6 fractional digits")


def _within_utf8_bytes(limit: int) -> AfterValidator:
    # pydantic has already refused lone surrogates, so every value encodes.
    def check(value: str) -> str:
        size = len(value.encode())
        if size > limit:
            raise ValueError(f"must be at most {limit} bytes of UTF-8, not {size}")
        return value
    return AfterValidator(check)


def _text_of_form(pattern: re.Pattern[str], is_object: Callable[[Any], bool],
                  rule: str) -> BeforeValidator:
    """Text must match `pattern` (no numbers, no other forms); an object from a Python
    producer passes on, to be checked by `_isoformat_of_form`."""
    def check(value: Any) -> Any:
        if isinstance(value, str) and pattern.fullmatch(value) or is_object(value):
            return value
        raise ValueError(f"must be {rule}")
    return BeforeValidator(check)


def _is_datetime(value: Any) -> bool:
    return isinstance(value, datetime)


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _isoformat_of_form(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    # The same rule for values a Python producer hands in as objects.
    def check(value: date) -> date:
        if not pattern.fullmatch(value.isoformat()):
            raise ValueError(f"must be {rule}")
        return value
    return AfterValidator(check)


def _integral(value: Any) -> Any:
    # JSON Schema counts 1478355330.0 as an integer; so does the contract.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _not_boolean(value: Any) -> Any:
    # A Literal[1] takes True (True == 1 in Python); JSON Schema's const 1 does not.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS,
                            pattern=NO_CONTROL_CHARACTERS)]
ObjectKey = Annotated[str, Field(min_length=1, max_length=OBJECT_KEY_MAX_BYTES,
                                 pattern=NO_CONTROL_CHARACTERS),
                      _within_utf8_bytes(OBJECT_KEY_MAX_BYTES)]
BucketName = Annotated[str, Field(min_length=3, max_length=63, pattern=BUCKET_PATTERN)]
Uuid = Annotated[str, Field(pattern=UUID_PATTERN, json_schema_extra={"format": "uuid"})]
Ratio = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
Percent = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)]
EpochSeconds = Annotated[int, Field(strict=True, ge=EPOCH_MIN, le=EPOCH_MAX),
                         BeforeValidator(_integral)]
NotBoolean = BeforeValidator(_not_boolean)
Timestamp = Annotated[AwareDatetime, _text_of_form(_DATETIME_RE, _is_datetime, _TIME_RULE),
                      _isoformat_of_form(_DATETIME_RE, _TIME_RULE),
                      Field(json_schema_extra={"pattern": DATETIME_PATTERN})]
CalendarDate = Annotated[date, _text_of_form(_DATE_RE, _is_date, "a date YYYY-MM-DD from "
                                             f"{FIRST_YEAR} to {LAST_YEAR}"),
                         _isoformat_of_form(_DATE_RE, f"a date from {FIRST_YEAR} to {LAST_YEAR}"),
                         Field(json_schema_extra={"pattern": DATE_PATTERN})]
