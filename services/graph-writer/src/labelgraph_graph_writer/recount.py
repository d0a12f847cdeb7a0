"""The tallies recounted from the edges, and every difference from what the graph holds
(plain logic, no I/O): the check behind `python -m labelgraph_graph_writer recount`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from labelgraph_graph_writer.tallies import ImageFacts, Tally, TallyKey, add_up, tally_key_text


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
        level, camera, period, _, _, _ = key
        if level == "total":
            return self.camera is None and not self.windowed
        if self.camera is not None and camera != self.camera:
            return False
        if not self.windowed:
            return True
        return level in ("hour", "date") and period in set(self.dates())


@dataclass(frozen=True)
class Difference:
    """A tally whose stored counts are not the recount's."""

    key: TallyKey
    stored: Tally
    recounted: Tally

    def __str__(self) -> str:
        return (f"{tally_key_text(self.key)}: stored {_shown(self.stored)}, "
                f"recounted {_shown(self.recounted)}")


def _shown(tally: Tally) -> str:
    return f"{tally.images} images, buckets {dict(sorted(tally.buckets.items()))}"


def differences(scope: Scope, images: Iterable[ImageFacts],
                stored: Mapping[TallyKey, Tally]) -> list[Difference]:
    """Every tally of the scope whose stored counts differ from the images' recount."""
    recounted = {key: tally for key, tally in add_up(images).items()
                 if tally.images and scope.covers(key)}
    held = {key: tally for key, tally in stored.items() if scope.covers(key)}
    return [Difference(key, held.get(key, Tally()), recounted.get(key, Tally()))
            for key in sorted(recounted.keys() | held.keys(), key=tally_key_text)
            if held.get(key) != recounted.get(key)]
