"""Which detectors a deployment runs, and where each keeps its label rows and checkpoint.

Part of the public layout: the labeler writes these tables, provisioning creates them, and
anyone reading the rows finds a detector's table by the same rule. Plain Python (no
pydantic), so a tool can use it without the event model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The detector whose rows stay where the original system kept them: its table and
# checkpoint keep their names, so the original readers keep working and nothing migrates.
ORIGINAL_DETECTOR = "aws-rekognition"
DEFAULT_DETECTORS = ORIGINAL_DETECTOR

DETECTOR_NAME_MAX_CHARS = 64
# Characters DynamoDB table names and S3 keys both take, and a Prometheus label value
# needs no quoting for: a name goes into a table name, a key, metrics and the graph.
_DETECTOR_NAME = re.compile(rf"[a-z0-9._-]{{1,{DETECTOR_NAME_MAX_CHARS}}}")
_TABLE_NAME_MAX_CHARS = 255  # DynamoDB's bound


@dataclass(frozen=True)
class DetectorEntry:
    """One configured detector: the name events, rows and metrics call it, and its model."""

    name: str
    kind: str


def parse_detectors(text: str) -> tuple[DetectorEntry, ...]:
    """LABELER_DETECTORS: comma-separated `kind` or `name=kind`; ValueError when malformed.

    Names are checked here; kinds only by the labeler, which knows which models it has.
    """
    entries = tuple(_entry(part.strip()) for part in text.split(",") if part.strip())
    if not entries:
        raise ValueError("LABELER_DETECTORS names no detector")
    names = [entry.name for entry in entries]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"LABELER_DETECTORS names {', '.join(repeated)} more than once: give "
                         "each detector its own name (name=kind)")
    return entries


def label_table_name(base: str, detector: str) -> str:
    """The detector's label table: LABEL_TABLE for aws-rekognition, `{LABEL_TABLE}.{name}`
    for any other (same key and row shape in each, so no detector overwrites another)."""
    name = base if detector == ORIGINAL_DETECTOR else f"{base}.{detector}"
    if len(name) > _TABLE_NAME_MAX_CHARS:
        raise ValueError(f"label table {name[:40]}... is {len(name)} characters, DynamoDB "
                         f"takes {_TABLE_NAME_MAX_CHARS}: shorten LABEL_TABLE or the name")
    return name


def checkpoint_key_name(base: str, detector: str) -> str:
    """The detector's backfill checkpoint: LABELER_CHECKPOINT_KEY for aws-rekognition,
    `{key}.{name}` for any other."""
    return base if detector == ORIGINAL_DETECTOR else f"{base}.{detector}"


def _entry(part: str) -> DetectorEntry:
    name, _, kind = part.rpartition("=")
    name, kind = (name.strip() or kind.strip()), kind.strip()
    if not _DETECTOR_NAME.fullmatch(name):
        raise ValueError(f"detector name {name[:80]!r} in LABELER_DETECTORS: use 1-"
                         f"{DETECTOR_NAME_MAX_CHARS} lowercase letters, digits, '.', '-', '_'")
    if not kind:
        raise ValueError(f"detector {name!r} in LABELER_DETECTORS has no kind")
    return DetectorEntry(name, kind)
