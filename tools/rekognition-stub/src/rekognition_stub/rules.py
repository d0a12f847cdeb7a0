"""The rules document: which labels, or which error, DetectLabels answers for an image."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TypedDict


class BoundingBox(TypedDict):
    Width: float
    Height: float
    Left: float
    Top: float


class Instance(TypedDict):
    BoundingBox: BoundingBox
    Confidence: float


class Named(TypedDict):
    Name: str


class Label(TypedDict):
    """One label exactly as DetectLabels returns it."""

    Name: str
    Confidence: float
    Instances: list[Instance]
    Parents: list[Named]
    Aliases: list[Named]
    Categories: list[Named]


@dataclass(frozen=True)
class Subject:
    """What rules match on: the S3 object (None for inline bytes) and the image's digest."""

    bucket: str | None
    key: str | None
    sha256: str | None  # None until the image has been read


@dataclass(frozen=True)
class Match:
    """Conditions that must all hold; no conditions matches every image."""

    key: str | None = None
    key_glob: str | None = None
    bucket: str | None = None
    sha256: str | None = None

    def decide(self, subject: Subject) -> bool | None:
        """Whether the subject matches; None when only the image's digest can tell."""
        if self.key is not None and subject.key != self.key:
            return False
        if self.key_glob is not None and not _glob(subject.key, self.key_glob):
            return False
        if self.bucket is not None and subject.bucket != self.bucket:
            return False
        if self.sha256 is None:
            return True
        if subject.sha256 is None:
            return None
        return subject.sha256 == self.sha256


@dataclass(frozen=True)
class Answer:
    """What DetectLabels says before filtering: labels, or an error code and message."""

    labels: tuple[Label, ...] = ()
    error: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Rule:
    """A match and its answer; `times` counts down the uses left (None: unlimited)."""

    match: Match
    answer: Answer
    times: int | None = None


@dataclass(frozen=True)
class RulesDocument:
    """The whole rules document: first matching rule wins, else the default labels."""

    model_version: str = "3.0"
    default: tuple[Label, ...] | None = None
    rules: tuple[Rule, ...] = ()


class RuleBook:
    """The live rules document shared by request threads."""

    def __init__(self, initial: RulesDocument) -> None:
        self._initial = initial
        self._document = initial
        self._lock = threading.Lock()

    def document(self) -> RulesDocument:
        """The current document, with each counted rule's uses left as its `times`."""
        with self._lock:
            return self._document

    def replace(self, document: RulesDocument) -> None:
        """Swap in a new document."""
        with self._lock:
            self._document = document

    def reset(self) -> None:
        """Go back to the document the stub started with."""
        self.replace(self._initial)

    def add(self, rules: Iterable[Rule], *, front: bool) -> None:
        """Put rules before (front) or after the current ones."""
        with self._lock:
            current, added = self._document.rules, tuple(rules)
            combined = added + current if front else current + added
            self._document = replace(self._document, rules=combined)

    def answer(self, subject: Subject) -> Answer | None:
        """Use up the first live matching rule; None when only the image digest can decide."""
        with self._lock:
            document = self._document
            for index, rule in enumerate(document.rules):
                if rule.times == 0:
                    continue
                decided = rule.match.decide(subject)
                if decided is None:
                    return None
                if decided:
                    self._count_down(index, rule)
                    return rule.answer
            return Answer(labels=document.default or ())

    def _count_down(self, index: int, rule: Rule) -> None:
        if rule.times is None:
            return
        rules = list(self._document.rules)
        rules[index] = replace(rule, times=rule.times - 1)
        self._document = replace(self._document, rules=tuple(rules))


def _glob(key: str | None, pattern: str) -> bool:
    # Inline-bytes images have no key, so key conditions never match them.
    return key is not None and fnmatchcase(key, pattern)
