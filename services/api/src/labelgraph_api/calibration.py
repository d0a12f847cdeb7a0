"""A detector's score as a probability of the label, fitted on reviewers' verdicts (no I/O).

Two parameters, p = 1 / (1 + exp(-(a + b * z))) over the standardised score z, fitted by
Newton's method: with tens of verdicts it is steadier than isotonic regression (a step
function needing hundreds), and it is a few lines of Python where scikit-learn would
bring scipy into the api image. The slope carries a small ridge on the standardised
score, so a detector that separates the verdicts perfectly gets a steep, finite curve,
and two detectors whose scores differ only in scale get the same curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

# Fewer verdicts than this, or fewer than MIN_EACH of either truth, and the raw score
# stands in for the probability (score / 100): a fit needs both kinds to say anything.
MIN_CALIBRATION_VERDICTS = 20
MIN_EACH = 5
RIDGE = 0.1  # on the slope of the standardised score
NEWTON_STEPS = 100
CONVERGED = 1e-10
PROBABILITY_LIMIT = 1e-6  # asked probabilities are clipped into (limit, 1 - limit)

Verdicts = Sequence[tuple[bool, float | None]]


@dataclass(frozen=True)
class Calibration:
    """The fit of one detector (on some cameras): None fields when there is none."""

    verdicts: int
    present: int
    mean: float = 0.0
    spread: float = 1.0
    intercept: float | None = None
    slope: float | None = None  # per standard deviation of the score

    @property
    def fitted(self) -> bool:
        return self.intercept is not None and self.slope is not None and self.slope > 0

    def probability(self, score: float | None) -> float | None:
        """The probability of the label at this raw score; None without a fit."""
        if not self.fitted:
            return None
        assert self.intercept is not None and self.slope is not None
        return _sigmoid(self.intercept + self.slope * (_score(score) - self.mean) / self.spread)

    def threshold_for(self, probability: float) -> float:
        """The raw score reaching the probability (0-100): from the fit, or score / 100
        standing in for the probability without one."""
        if not self.fitted:
            return round(100 * probability, 6)
        assert self.intercept is not None and self.slope is not None
        p = min(max(probability, PROBABILITY_LIMIT), 1 - PROBABILITY_LIMIT)
        logit = math.log(p / (1 - p))
        score = self.mean + self.spread * (logit - self.intercept) / self.slope
        return round(min(max(score, 0.0), 100.0), 6)

    def as_body(self) -> dict[str, object]:
        return {"verdicts": self.verdicts, "present": self.present,
                "absent": self.verdicts - self.present, "enough": self.fitted,
                "score_at_half": self.threshold_for(0.5) if self.fitted else None,
                "intercept": self.intercept, "slope": self.slope,
                "score_mean": self.mean, "score_spread": self.spread}


def fit_calibration(verdicts: Verdicts) -> Calibration:
    """Fit score -> probability on (truth, score) pairs; a score of None (the detector gave
    no such label) counts as 0. No fit with too few verdicts of either truth."""
    truths = [1.0 if present else 0.0 for present, _ in verdicts]
    scores = [_score(score) for _, score in verdicts]
    present = int(sum(truths))
    if (len(truths) < MIN_CALIBRATION_VERDICTS or present < MIN_EACH
            or len(truths) - present < MIN_EACH):
        return Calibration(len(truths), present)
    # In floats: statistics.pstdev works in exact fractions, 2 ms over a thousand verdicts.
    mean = fmean(scores)
    spread = math.sqrt(math.fsum((score - mean) ** 2 for score in scores) / len(scores))
    if spread == 0:
        return Calibration(len(truths), present)
    standard = [(score - mean) / spread for score in scores]
    intercept, slope = _newton(standard, truths)
    return Calibration(len(truths), present, mean, spread, intercept, slope)


def _newton(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Maximise the ridge-penalised log-likelihood (strictly concave: Newton converges).
    `/accuracy` fits over every verdict on every request, so a step is one pass over
    them, not five."""
    a = b = 0.0
    pairs = list(zip(xs, ys, strict=True))
    for _ in range(NEWTON_STEPS):
        grad_a = grad_b = h_aa = h_ab = h_bb = 0.0
        for x, y in pairs:
            p = _sigmoid(a + b * x)
            weight, residual = p * (1 - p), y - p
            grad_a += residual
            grad_b += residual * x
            h_aa += weight
            h_ab += weight * x
            h_bb += weight * x * x
        grad_b -= RIDGE * b
        h_aa += 1e-12
        h_bb += RIDGE
        det = h_aa * h_bb - h_ab * h_ab
        step_a = (h_bb * grad_a - h_ab * grad_b) / det
        step_b = (h_aa * grad_b - h_ab * grad_a) / det
        a, b = a + step_a, b + step_b
        if abs(step_a) + abs(step_b) < CONVERGED:
            break
    return a, b


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1 / (1 + math.exp(-value))
    e = math.exp(value)
    return e / (1 + e)


def _score(score: float | None) -> float:
    return 0.0 if score is None else score
