"""Every verdict on one image and label, who gave it and when: the verdict table's history.

Plain logic, no I/O. The verdict in force is the newest one not undone (newest wins, as
it always did); an undone verdict stays in the history, marked with who undid it and when,
so the record says what was judged even when a reviewer took it back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from labelgraph_api.domain import StoredVerdict

# A DynamoDB item holds at most 400 KB: 100 entries of two 256-character names and two
# times stay far below it. The oldest undone entries give way first, then the oldest.
HISTORY_MAX = 100


class VerdictNotFound(LookupError):
    """No verdict of that time on that image and label."""


class NotTheLatest(ValueError):
    """Only the verdict in force can be undone: a later one was given since."""


@dataclass(frozen=True)
class VerdictEntry:
    """One verdict as given; undone_at and undone_by say when and by whom it was undone."""

    present: bool
    reviewer: str
    reviewed_at: str
    sampled: bool = False  # given in the random-sample review
    undone_at: str | None = None
    undone_by: str | None = None

    @property
    def undone(self) -> bool:
        return self.undone_at is not None

    def as_row(self) -> dict[str, Any]:
        return {"present": self.present, "reviewer": self.reviewer,
                "reviewed_at": self.reviewed_at, "sampled": self.sampled,
                "undone_at": self.undone_at, "undone_by": self.undone_by}


@dataclass(frozen=True)
class VerdictHistory:
    """The verdicts on one image and label, oldest first."""

    object_key: str
    label: str
    entries: tuple[VerdictEntry, ...] = ()

    @classmethod
    def of(cls, verdict: StoredVerdict) -> VerdictHistory:
        """The history of a verdict stored before histories were kept: that verdict alone."""
        return cls(verdict.object_key, verdict.label, (_entry(verdict),))

    @property
    def current(self) -> StoredVerdict | None:
        """The verdict in force: the newest not undone; None when every one was undone."""
        active = [entry for entry in self.entries if not entry.undone]
        if not active:
            return None
        newest = active[-1]
        return StoredVerdict(self.object_key, self.label, newest.present, newest.reviewer,
                             newest.reviewed_at, newest.sampled)

    def holds(self, verdict: StoredVerdict) -> bool:
        return any(_gave(entry, verdict) for entry in self.entries)

    def holds_undone(self, verdict: StoredVerdict) -> bool:
        return any(_gave(entry, verdict) and entry.undone for entry in self.entries)

    def with_verdict(self, verdict: StoredVerdict) -> VerdictHistory:
        """The history with one more verdict, in time order (a late arrival of an older
        verdict is kept, but the newer one stays in force)."""
        entries = sorted((*self.entries, _entry(verdict)), key=lambda entry: entry.reviewed_at)
        return replace(self, entries=_bounded(entries))

    def undo(self, reviewed_at: str, undone_by: str, undone_at: str) -> VerdictHistory:
        """The history with the verdict in force, given at `reviewed_at`, undone; the
        previous one is in force again. Undoing an undone verdict changes nothing."""
        matching = [entry for entry in self.entries if entry.reviewed_at == reviewed_at]
        if not matching:
            raise VerdictNotFound(reviewed_at)
        if all(entry.undone for entry in matching):
            return self
        current = self.current
        if current is None or current.reviewed_at != reviewed_at:
            raise NotTheLatest(reviewed_at)
        entries = tuple(replace(entry, undone_at=undone_at, undone_by=undone_by)
                        if entry.reviewed_at == reviewed_at and not entry.undone else entry
                        for entry in self.entries)
        return replace(self, entries=entries)


@dataclass(frozen=True)
class GraphFix:
    """What one image and label's Review needs to show the verdict in force again."""

    in_force: StoredVerdict | None  # None: no verdict is in force, the Review goes
    undone: StoredVerdict | None = None  # the undone verdict the Review shows, if it does


def graph_fix(history: VerdictHistory, shown: StoredVerdict | None) -> GraphFix | None:
    """The change that makes the graph's Review (`shown`, None when there is none) equal the
    verdict in force; None when none is due. A verdict the history never held and newer than
    the one in force is left as it is: adoption takes it into the table, in force there too."""
    current = history.current
    if shown is not None and history.holds_undone(shown):
        return GraphFix(current, undone=shown)
    if current is None or shown == current:
        return None
    if shown is not None and not history.holds(shown) and shown.reviewed_at > current.reviewed_at:
        return None
    return GraphFix(current)


def _gave(entry: VerdictEntry, verdict: StoredVerdict) -> bool:
    return entry.reviewed_at == verdict.reviewed_at and entry.reviewer == verdict.reviewer


def _entry(verdict: StoredVerdict) -> VerdictEntry:
    return VerdictEntry(verdict.present, verdict.reviewer, verdict.reviewed_at,
                        verdict.sampled)


def _bounded(entries: list[VerdictEntry]) -> tuple[VerdictEntry, ...]:
    """The newest HISTORY_MAX entries, undone ones given up first: a verdict that may come
    back in force when a later one is undone stays longest."""
    while len(entries) > HISTORY_MAX:
        undone = [entry for entry in entries if entry.undone]
        entries.remove(undone[0] if undone else entries[0])
    return tuple(entries)
