"""Unit tests of the stub's settings: flags over environment over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rekognition_stub.config import read_settings
from rekognition_stub.detect import Limits


def test_defaults_match_aws_limits() -> None:
    settings = read_settings([], {})

    assert (settings.host, settings.port, settings.rules_file) == ("127.0.0.1", 8900, None)
    assert settings.limits == Limits(s3_bytes=15 * 1024 * 1024, inline_bytes=5 * 1024 * 1024)


def test_flags_win_over_the_environment() -> None:
    environ = {"REKOGNITION_STUB_HOST": "0.0.0.0", "REKOGNITION_STUB_PORT": "9000",
               "REKOGNITION_STUB_RULES_FILE": "env.json"}

    from_env = read_settings([], environ)
    from_flags = read_settings(["--port", "9100", "--rules", "flag.json"], environ)

    assert (from_env.host, from_env.port) == ("0.0.0.0", 9000)
    assert from_env.rules_file == Path("env.json")
    assert (from_flags.port, from_flags.rules_file) == (9100, Path("flag.json"))


def test_size_limits_from_the_environment() -> None:
    environ = {"REKOGNITION_STUB_MAX_S3_BYTES": "1000", "REKOGNITION_STUB_MAX_INLINE_BYTES": "10"}

    assert read_settings([], environ).limits == Limits(s3_bytes=1000, inline_bytes=10)


def test_an_empty_rules_file_variable_means_no_file() -> None:
    assert read_settings([], {"REKOGNITION_STUB_RULES_FILE": ""}).rules_file is None


@pytest.mark.parametrize("raw", ["abc", "0", "-5"])
def test_bad_size_limit_stops_the_stub(raw: str) -> None:
    with pytest.raises(SystemExit):
        read_settings([], {"REKOGNITION_STUB_MAX_S3_BYTES": raw})
