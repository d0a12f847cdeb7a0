"""Stub settings: command-line flags over REKOGNITION_STUB_* environment variables."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rekognition_stub.detect import Limits


@dataclass(frozen=True)
class StubSettings:
    """Where the stub listens, its starting rules file and its image size limits."""

    host: str
    port: int
    rules_file: Path | None
    limits: Limits


def read_settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> StubSettings:
    """Settings from flags, falling back to the environment, then to defaults."""
    parser = argparse.ArgumentParser(
        prog="rekognition-stub", description="Rekognition DetectLabels stand-in."
    )
    parser.add_argument("--host", default=environ.get("REKOGNITION_STUB_HOST", "127.0.0.1"),
                        help="env REKOGNITION_STUB_HOST; default 127.0.0.1")
    parser.add_argument("--port", type=int, default=environ.get("REKOGNITION_STUB_PORT", "8900"),
                        help="env REKOGNITION_STUB_PORT; default 8900; 0 picks a free one")
    rules_file = environ.get("REKOGNITION_STUB_RULES_FILE") or None  # compose may set it empty
    parser.add_argument("--rules", type=Path, default=rules_file,
                        help="env REKOGNITION_STUB_RULES_FILE; the JSON rules document loaded "
                        "at start and restored by DELETE /_stub/rules")
    args = parser.parse_args(argv)
    s3_bytes = _size(parser, environ, "REKOGNITION_STUB_MAX_S3_BYTES", Limits.s3_bytes)
    inline_bytes = _size(parser, environ, "REKOGNITION_STUB_MAX_INLINE_BYTES", Limits.inline_bytes)
    limits = Limits(s3_bytes=s3_bytes, inline_bytes=inline_bytes)
    return StubSettings(host=args.host, port=int(args.port), rules_file=args.rules, limits=limits)


def _size(
    parser: argparse.ArgumentParser, environ: Mapping[str, str], name: str, default: int
) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) == 0:
        parser.error(f"{name} must be a positive whole number of bytes, not {raw!r}")
    return int(raw)
