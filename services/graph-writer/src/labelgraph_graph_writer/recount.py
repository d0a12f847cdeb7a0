"""The tallies and the labels' edge counters recounted from the edges, and every
difference from what the graph holds (plain logic, no I/O): the check behind
`python -m labelgraph_graph_writer recount`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from labelgraph_graph_writer.tallies import (
    OFFSETS,
    Counts,
    ImageFacts,
    Row,
    TallyKey,
    add_up,
    encode,
    meanings,
    nonzero,
    offsets_by_day,
    registry_of,
    shards,
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
        if self.camera is not None and key[1] != self.camera:
            return False
        if not self.windowed:
            return True
        return key[0] == "day" and key[2] in set(self.dates())


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
    """The scope's tallies as the edges count them (shards: from the days the graph says
    are folded), and every difference from the stored ones."""

    days: dict[TallyKey, Counts]
    shards: dict[TallyKey, Counts]
    unfolded: dict[TallyKey, list[str]]  # registry -> the camera's unfolded dates
    stored: Mapping[TallyKey, Mapping[str, Any]]
    differences: list[Difference]
    offsets: dict[TallyKey, set[int]]  # day -> the UTC offsets of its images

    def repairs(self) -> list[Row]:
        """The whole properties of each tally with a difference, as the recount has them
        (set with `SET tally = row.props`, so a stale property goes); a day keeps whether
        it is folded."""
        rows = []
        for key in sorted({difference.key for difference in self.differences},
                          key=tally_key_text):
            props: Row = {"tally_key": tally_key_text(key), "level": key[0], "camera": key[1]}
            if key[0] == "day":
                held = self.stored.get(key, {})
                props |= {"period": key[2], "folded": bool(held.get("folded")),
                          "touched_at": held.get("touched_at", 0.0),
                          OFFSETS: sorted(self.offsets.get(key, set())
                                          | set(_held_offsets(held) or ()))}
                props |= {name: encode(name, codes)
                          for name, codes in self.days.get(key, {}).items()}
            elif key[0] == "unfolded":
                props["dates"] = self.unfolded.get(key, [])
            else:
                props |= {"period": key[2], "shard": key[3]}
                props |= {name: encode(name, codes)
                          for name, codes in self.shards.get(key, {}).items()}
            rows.append({"key": props["tally_key"], "props": props})
        return rows


def recount(scope: Scope, images: Iterable[ImageFacts],
            stored: Mapping[TallyKey, Mapping[str, Any]]) -> Recount:
    """The scope's tallies counted anew from its images' edges, against the stored ones."""
    images = list(images)
    named: dict[str, str] = {}
    for image in images:
        named |= meanings(image)
    days = {key: counts for key, counts in
            ((key, nonzero(counts)) for key, counts in add_up(images).items()) if counts}
    folded = [key for key, props in stored.items() if key[0] == "day" and props.get("folded")]
    expected_shards = {key: counts for key, counts in
                       ((key, nonzero(counts)) for key, counts in shards(days, folded).items())
                       if counts and scope.covers(key)}
    unfolded: dict[TallyKey, list[str]] = {}
    for key, props in stored.items():
        if key[0] == "day" and props.get("folded") is False:
            unfolded.setdefault(registry_of(key[1]), []).append(key[2])
    offsets = offsets_by_day(images)
    found = _differences(scope, days, stored, named, ("day",))
    found += _missing_offsets(scope, offsets, stored)
    found += _differences(scope, expected_shards, stored, named, ("month", "total"))
    if not scope.windowed:
        for key in sorted({key for key in stored if key[0] == "unfolded"} | unfolded.keys(),
                          key=tally_key_text):
            if scope.covers(key):
                held_dates = sorted(stored.get(key, {}).get("dates") or [])
                if held_dates != sorted(unfolded.get(key, [])):
                    found.append(Difference(key, "dates", "days not folded yet", held_dates,
                                            sorted(unfolded.get(key, []))))
    return Recount(days, expected_shards,
                   {key: sorted(dates) for key, dates in unfolded.items()}, stored, found,
                   offsets)


def _held_offsets(props: Mapping[str, Any]) -> list[int] | None:
    held = props.get(OFFSETS)
    return held if isinstance(held, list) else None


def _missing_offsets(scope: Scope, offsets: Mapping[TallyKey, set[int]],
                     stored: Mapping[TallyKey, Mapping[str, Any]]) -> list[Difference]:
    """Each day in scope whose UTC offsets miss one of its images' (readers trust them to
    hold every one; more is only careful), or that holds none at all (written before them:
    readers read its straddling hours from the images until a repair sets them)."""
    found = []
    for key in sorted(offsets, key=tally_key_text):
        held = _held_offsets(stored.get(key, {}))
        if scope.covers(key) and (held is None or not offsets[key] <= set(held)):
            found.append(Difference(key, OFFSETS, "UTC offsets of its captures, minutes",
                                    held, sorted(offsets[key])))
    return found


def _differences(scope: Scope, counted: Mapping[TallyKey, Counts],
                 stored: Mapping[TallyKey, Mapping[str, Any]], named: Mapping[str, str],
                 levels: tuple[str, ...]) -> list[Difference]:
    """Every property of the scope's tallies of those levels that differs."""
    expected = {key: counts for key, counts in counted.items() if scope.covers(key)}
    held = {key: stored_cells(props) for key, props in stored.items()
            if key[0] in levels and scope.covers(key)}
    found = []
    for key in sorted(expected.keys() | held.keys(), key=tally_key_text):
        mine, theirs = expected.get(key, {}), held.get(key, {})
        for name in sorted(mine.keys() | theirs.keys()):
            if mine.get(name, {}) != theirs.get(name, {}):
                found.append(Difference(key, name, named.get(name, "counted by no image"),
                                        theirs.get(name, {}), mine.get(name, {})))
    return found


def labels_of(images: Iterable[ImageFacts]) -> list[str]:
    """The labels the images' edges go to: those a recount of their scope checks."""
    return sorted({name for image in images for by_label in image.labels.values()
                   for name in by_label})


def label_differences(counts: Mapping[str, tuple[int | None, int]]) -> list[Difference]:
    """Every label whose edge counter is not its degree (label -> (counter, degree)). A
    label without a counter is no difference: the api counts it by degree until the
    writer's start gives it one."""
    return [Difference(("label", name), "edge_count", "its HAS_LABEL edges", stored, degree)
            for name, (stored, degree) in sorted(counts.items())
            if stored is not None and stored != degree]
