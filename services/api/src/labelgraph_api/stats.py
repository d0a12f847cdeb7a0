"""Honest figures: a proportion with its count and its 95% Wilson score interval (no I/O).

The Wilson interval is four lines of arithmetic; statsmodels has it (proportion_confint)
but pulls scipy and pandas into the api image for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Below this many verdicts a proportion is said to be too few to tell, not shown bare:
# 3 of 3 is "1.00" and its 95% interval still reaches down to 0.44.
MIN_VERDICTS = 5
Z_95 = 1.959964


@dataclass(frozen=True)
class Proportion:
    """`successes` of `count` verdicts, with the 95% Wilson interval of the share."""

    successes: int
    count: int

    @property
    def value(self) -> float | None:
        return self.successes / self.count if self.count else None

    @property
    def enough(self) -> bool:
        return self.count >= MIN_VERDICTS

    @property
    def interval(self) -> tuple[float, float] | None:
        """The Wilson score interval, which stays inside 0-1 and is honest at 0 of n or n of n."""
        if not self.count:
            return None
        n, share = self.count, self.successes / self.count
        spread = Z_95 * Z_95 / n
        centre = (share + spread / 2) / (1 + spread)
        half = Z_95 * math.sqrt(share * (1 - share) / n + spread / (4 * n)) / (1 + spread)
        return max(0.0, centre - half), min(1.0, centre + half)

    def as_body(self) -> dict[str, object]:
        low, high = self.interval or (None, None)
        return {"successes": self.successes, "count": self.count, "value": self.value,
                "low": low, "high": high, "enough": self.enough}
