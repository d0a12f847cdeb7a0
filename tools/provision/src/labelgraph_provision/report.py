"""What a provisioning run found and did, one outcome per resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(Enum):
    CREATED = "created"
    EXISTED = "existed"
    UPDATED = "updated"


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    status: Status
    # How an existing resource differs from what was asked, or what could not be checked:
    # warnings, since provisioning leaves it as it is (a difference that breaks the
    # services is refused with a ProvisionError instead).
    differences: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        if self.status is Status.CREATED:
            return f"created {self.kind} {self.name}"
        if self.status is Status.UPDATED:
            return f"updated {self.kind} {self.name}"
        found = f"{self.kind} {self.name} already exists"
        return f"{found}, but: {'; '.join(self.differences)}" if self.differences else found


@dataclass(frozen=True)
class ProvisionReport:
    outcomes: tuple[Outcome, ...]

    @property
    def created(self) -> tuple[Outcome, ...]:
        return self._with(Status.CREATED)

    @property
    def updated(self) -> tuple[Outcome, ...]:
        return self._with(Status.UPDATED)

    @property
    def existed(self) -> tuple[Outcome, ...]:
        return self._with(Status.EXISTED)

    @property
    def changed(self) -> bool:
        return any(o.status is not Status.EXISTED for o in self.outcomes)

    def _with(self, status: Status) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is status)
