"""The importer's settings, from the same environment variables the labeler reads; the
defaults work on the embedded stack. The endpoint is boto3's own AWS_ENDPOINT_URL (unset on
AWS), so the same code serves both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class ImporterSettings:
    image_bucket: str = "security-alarms"
    # The cameras' clock: file-name stamps and EXIF times without offset are on it, and so
    # are the keys' dates, hours and stamps (the labeler's CAMERA_TIMEZONE).
    camera_timezone: ZoneInfo = ZoneInfo("America/Los_Angeles")
    aws_region: str = "us-east-1"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ImporterSettings:
        """Settings from `env`; ValueError naming the variable that is wrong."""
        defaults = cls()
        zone_name = env.get("CAMERA_TIMEZONE", defaults.camera_timezone.key)
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CAMERA_TIMEZONE {zone_name[:60]!r} is no IANA time zone "
                             "(e.g. America/Los_Angeles)") from None
        return cls(image_bucket=env.get("IMAGE_BUCKET", defaults.image_bucket),
                   camera_timezone=zone,
                   aws_region=env.get("AWS_DEFAULT_REGION", defaults.aws_region))
