"""The tallies recounted from the edges, and every difference from what the graph holds
(plain logic, no I/O): the check behind `python -m labelgraph_graph_writer recount`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from labelgraph_graph_writer.tallies import (
    Counts,
    ImageFacts,
    Row,
    TallyKey,
    add_up,
    encode,
    key_fields,
    meanings,
    month_of,
    months,
    nonzero,
    stored_cells,
    tally_key_text,
)


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
    """One property of a tally whose stored value is not the recount's."""

    key: TallyKey
    name: str  # the property
    meaning: str  # what it counts, when the recount knows (a stale property: unknown)
    stored: object
    recounted: object

    def __str__(self) -> str:
        return (f"{tally_key_text(self.key)} {self.name} ({self.meaning}): "
                f"stored {_shown(self.stored)}, recounted {_shown(self.recounted)}")


def _shown(value: object) -> str:
    return str(dict(sorted(value.items()))) if isinstance(value, dict) else str(value)


@dataclass(frozen=True)
class Recount:
    """The scope's tallies as the edges count them (months: the days the graph says are
    folded), each property's meaning, and every difference from the stored ones."""

    expected: dict[TallyKey, Counts]
    folded_days: dict[TallyKey, list[str]]  # month -> its folded dates, from the day nodes
    stored: Mapping[TallyKey, Mapping[str, Any]]
    differences: list[Difference]

    def repairs(self) -> list[Row]:
        """The whole properties of each tally with a difference, as the recount has them
        (set with `SET tally = row.props`, so a stale property goes); a day keeps whether
        it is folded, a month gets the days folded into it."""
        rows = []
        for key in sorted({difference.key for difference in self.differences},
                          key=tally_key_text):
            fields = key_fields(key)
            held = self.stored.get(key, {})
            props: Row = {"tally_key": fields["key"], "level": fields["level"],
                          "camera": fields["camera"], "period": fields["period"]}
            props |= {name: encode(name, codes)
                      for name, codes in self.expected.get(key, {}).items()}
            if key[0] == "day":
                props |= {"folded": bool(held.get("folded")),
                          "touched_at": held.get("touched_at", 0.0)}
            else:
                props["folded_days"] = self.folded_days.get(key, [])
            rows.append({"key": fields["key"], "props": props})
        return rows


def recount(scope: Scope, images: Iterable[ImageFacts],
            stored: Mapping[TallyKey, Mapping[str, Any]]) -> Recount:
    """The scope's tallies counted anew from its images' edges, against the stored ones."""
    images = list(images)
    named: dict[str, str] = {}
    for image in images:
        named |= meanings(image)
    days = add_up(images)
    folded = sorted(key for key, props in stored.items()
                    if key[0] == "day" and props.get("folded") is True)
    folded_days: dict[TallyKey, list[str]] = {}
    for day in folded:
        folded_days.setdefault(month_of(day), []).append(day[2])
    expected = {key: nonzero(counts)
                for key, counts in (days | months(days, folded)).items() if scope.covers(key)}
    expected = {key: counts for key, counts in expected.items() if counts}
    held = {key: stored_cells(props) for key, props in stored.items() if scope.covers(key)}
    found = []
    for key in sorted(expected.keys() | held.keys(), key=tally_key_text):
        mine, theirs = expected.get(key, {}), held.get(key, {})
        for name in sorted(mine.keys() | theirs.keys()):
            if mine.get(name, {}) != theirs.get(name, {}):
                meaning = named.get(name, "counted by no image")
                found.append(Difference(key, name, meaning, theirs.get(name, {}),
                                        mine.get(name, {})))
    for key in sorted(key for key in stored if key[0] == "month" and scope.covers(key)):
        listed = sorted(stored[key].get("folded_days") or [])
        if listed != folded_days.get(key, []):
            found.append(Difference(key, "folded_days", "days folded into the month", listed,
                                    folded_days.get(key, [])))
    return Recount(expected, folded_days, stored, found)
