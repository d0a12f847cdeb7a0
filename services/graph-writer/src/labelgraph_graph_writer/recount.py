"""The tallies recounted from the edges, and every difference from what the graph holds
(plain logic, no I/O): the check behind `python -m labelgraph_graph_writer recount`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from labelgraph_graph_writer.tallies import (
    ImageFacts,
    Row,
    TallyKey,
    add_up,
    by_property,
    encode,
    key_fields,
    tally_key_text,
    tally_property,
)

# A tally's counting properties, decoded: property name -> code -> count.
Counts = dict[str, dict[int, int]]


@dataclass(frozen=True)
class Scope:
    """What a recount covers: a camera (None: all) and local dates [since, until)."""

    camera: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None

    def dates(self) -> list[str]:
        """The window's local dates (a window needs both ends)."""
        assert self.since is not None and self.until is not None, "a window has both ends"
        days = (self.until - self.since).days
        return [(self.since + timedelta(days=offset)).isoformat() for offset in range(days)]

    def covers(self, key: TallyKey) -> bool:
        """Whether the scope's images are all the images the tally counts."""
        level, camera, period = key
        if self.camera is not None and camera != self.camera:
            return False
        if not self.windowed:
            return True
        return level == "day" and period in set(self.dates())


@dataclass(frozen=True)
class Difference:
    """One property of a tally whose stored counts are not the recount's."""

    key: TallyKey
    name: str  # the property
    meaning: str  # what it counts, when the recount knows (a stale property: unknown)
    stored: Mapping[int, int]
    recounted: Mapping[int, int]

    def __str__(self) -> str:
        return (f"{tally_key_text(self.key)} {self.name} ({self.meaning}): "
                f"stored {dict(sorted(self.stored.items()))}, "
                f"recounted {dict(sorted(self.recounted.items()))}")


@dataclass(frozen=True)
class Recount:
    """The scope's tallies as the edges count them, and each property's meaning."""

    tallies: dict[TallyKey, Counts]
    meanings: dict[str, str]

    def repairs(self, found: Iterable[Difference]) -> list[Row]:
        """The whole properties of each tally with a difference, as the recount has them
        (set with `SET tally = row.props`, so a stale property goes)."""
        keys = sorted({difference.key for difference in found}, key=tally_key_text)
        rows = []
        for key in keys:
            fields = key_fields(key)
            counts = {name: encode(name, codes)
                      for name, codes in self.tallies.get(key, {}).items()}
            props = {"tally_key": fields["key"], "level": fields["level"],
                     "camera": fields["camera"], "period": fields["period"], **counts}
            rows.append({"key": fields["key"], "props": props})
        return rows


def recount_of(scope: Scope, images: Iterable[ImageFacts]) -> Recount:
    """The scope's tallies counted anew from its images' edges."""
    tallies: dict[TallyKey, Counts] = {}
    meanings: dict[str, str] = {}
    for key, cells in add_up(images).items():
        for view, label, _, _ in cells:
            meanings[tally_property(view, label)] = (
                f"view {view!r} images" if label is None else f"view {view!r} label {label!r}")
        if scope.covers(key):
            tallies[key] = by_property(cells)
    return Recount({key: counts for key, counts in tallies.items() if counts}, meanings)


def differences(scope: Scope, counted: Recount, stored: Mapping[TallyKey, Counts]
                ) -> list[Difference]:
    """Every property of the scope's tallies whose stored counts differ from the recount."""
    held = {key: counts for key, counts in stored.items() if scope.covers(key) and counts}
    found = []
    for key in sorted(counted.tallies.keys() | held.keys(), key=tally_key_text):
        mine, theirs = counted.tallies.get(key, {}), held.get(key, {})
        for name in sorted(mine.keys() | theirs.keys()):
            if mine.get(name, {}) != theirs.get(name, {}):
                meaning = counted.meanings.get(name, "counted by no image")
                found.append(Difference(key, name, meaning, theirs.get(name, {}),
                                        mine.get(name, {})))
    return found
