"""Use cases of where and when a detector misses, and of what its threshold costs."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any

from labelgraph_api.breakdown import (
    AlarmCounts,
    Nights,
    alarm_days,
    group_verdicts,
    judged_by,
    parse_nights,
    silent_detectors,
    version_of,
)
from labelgraph_api.domain import (
    TargetRecall,
    confusion,
    curve,
    parse_thresholds,
    threshold_for_recall,
)
from labelgraph_api.handlers.accuracy import (
    counts_body,
    detector_names,
    silent_body,
    spoken,
    without_silent,
)
from labelgraph_api.handlers.scope import check_detector, label_named, window_of
from labelgraph_api.ports import GraphReads
from labelgraph_api.windows import Window

Body = dict[str, Any]
Key = Callable[[Body], Hashable]


async def breakdown(reads: GraphReads, *, label: str, cameras: list[str] | None,
                    since: datetime | None, until: datetime | None,
                    detectors: list[str] | None, threshold: float, thresholds: Sequence[str],
                    nights: Sequence[str]) -> Body:
    """Each detector's accuracy by camera, camera-local hour, day or night, camera and hour,
    and model version, side by side."""
    overrides, night = parse_thresholds(thresholds), parse_nights(nights)
    scope = await _judged(reads, label, cameras, since, until, detectors)
    results = [_sliced(scope["rows"], name, overrides.get(name, threshold), night)
               for name in scope["detectors"]]
    return {**scope["echo"], "threshold": threshold, "night": night.as_body(),
            "detectors": results}


async def costs(reads: GraphReads, *, label: str, cameras: list[str] | None,
                since: datetime | None, until: datetime | None, detectors: list[str] | None,
                threshold: float, thresholds: Sequence[str], step: float,
                target_recall: float) -> Body:
    """Per detector and camera at its threshold: recall, precision and alarms a day; the
    threshold reaching the target recall and its alarms a day; alarms a day against recall."""
    overrides = parse_thresholds(thresholds)
    scope = await _judged(reads, label, cameras, since, until, detectors)
    rows, names = scope["rows"], scope["detectors"]
    per_camera = {name: group_verdicts(rows, name, lambda row: row["camera"]) for name in names}
    overall = {name: group_verdicts(rows, name, lambda row: "")[""] for name in names
               if judged_by(rows, name)}
    targets = {(name, camera): threshold_for_recall(verdicts, target_recall)
               for name, groups in per_camera.items() for camera, verdicts in groups.items()}
    targets.update({(name, None): threshold_for_recall(verdicts, target_recall)
                    for name, verdicts in overall.items()})
    bars = {point.threshold for point in curve([], step)} | {threshold, *overrides.values()}
    bars |= {target.threshold for target in targets.values() if target.threshold is not None}
    alarms = await _alarms(reads, scope["span"], sorted(bars), label, cameras, since, until)
    results = []
    for name in names:
        bar = overrides.get(name, threshold)
        seen = sorted(_alarm_cameras(alarms, name) | set(per_camera[name]))
        results.append({
            "detector": name, "threshold": bar,
            "all_cameras": _cost(overall.get(name, []), alarms, name, bar, seen,
                                 targets.get((name, None))),
            "per_camera": [{"camera": camera,
                            **_cost(per_camera[name].get(camera, []), alarms, name, bar,
                                    [camera], targets.get((name, camera)))}
                           for camera in seen],
            "curve": [{"threshold": point.threshold, "recall": point.recall,
                       "precision": point.precision,
                       "alarms_per_day": alarms.per_day(name, point.threshold, seen)}
                      for point in curve(overall.get(name, []), step)]})
    return {**scope["echo"], "threshold": threshold, "target_recall": target_recall,
            "days": alarms.days, "detectors": results}


async def _judged(reads: GraphReads, label: str, cameras: list[str] | None,
                  since: datetime | None, until: datetime | None,
                  detectors: list[str] | None) -> Body:
    """The reviewed rows in scope, the detectors judged on them (the asked ones, or all but
    those that labelled nothing at all there) and the fields every answer echoes."""
    asked = detector_names(detectors)
    span = await window_of(reads, since, until, cameras=cameras)
    label, unknown = await label_named(reads, label)
    rows = await reads.reviewed_by_detector(span, label=label, cameras=cameras)
    silent = silent_detectors(rows)
    for name in asked or ():
        await check_detector(reads, name, any(name in row["detectors"] for row in rows))
    judged = without_silent(rows, silent)
    names = spoken(asked, silent)
    if names is None:
        names = sorted({name for row in judged for name in row["detectors"]})
    return {"span": span, "rows": judged, "detectors": names,
            "echo": {"label": label, "cameras": cameras, "since": since, "until": until,
                     "reviewed": len(rows), "silent_detectors": silent_body(silent),
                     "unknown_labels": unknown}}


def _sliced(rows: Sequence[Body], detector: str, bar: float, night: Nights) -> Body:
    def slices(key: Key, fields: tuple[str, ...]) -> list[Body]:
        return _slices(rows, detector, bar, key, fields)

    return {"detector": detector, "threshold": bar, "labelled": len(judged_by(rows, detector)),
            "by_camera": slices(lambda row: (row["camera"],), ("camera",)),
            "by_hour": slices(_hour, ("hour",)),
            "by_period": slices(_period(night), ("camera", "period")),
            "by_camera_hour": slices(lambda row: _pair(row["camera"], row["hour"]),
                                     ("camera", "hour")),
            "by_version": slices(lambda row: (version_of(detector)(row),), ("model_version",))}


def _slices(rows: Sequence[Body], detector: str, bar: float, key: Key,
            fields: tuple[str, ...]) -> list[Body]:
    groups = group_verdicts([row for row in rows if key(row) is not None], detector, key)
    return [{**dict(zip(fields, values, strict=True)), "reviewed": len(verdicts),
             "at_threshold": counts_body(confusion(verdicts, bar))}
            for values, verdicts in groups.items()]


def _hour(row: Body) -> tuple[int] | None:
    return None if row["hour"] is None else (row["hour"],)


def _pair(camera: str, hour: int | None) -> tuple[str, int] | None:
    return None if hour is None else (camera, hour)


def _period(night: Nights) -> Key:
    def key(row: Body) -> tuple[str, str] | None:
        hour = row["hour"]
        return None if hour is None else (row["camera"], night.period(row["camera"], hour))
    return key


async def _alarms(reads: GraphReads, span: Window, bars: list[float], label: str,
                  cameras: list[str] | None, since: datetime | None,
                  until: datetime | None) -> AlarmCounts:
    rows = await reads.alarms(span, bars, label=label, cameras=cameras)
    firsts = [row["first_ts"] for row in rows]
    lasts = [row["last_ts"] for row in rows]
    days = alarm_days(span.since, span.until, min(firsts, default=None),
                      max(lasts, default=None), since is None, until is None)
    return AlarmCounts({(row["camera"], row["detector"], float(row["threshold"])): row["alarms"]
                        for row in rows}, days)


def _alarm_cameras(alarms: AlarmCounts, detector: str) -> set[str]:
    return {camera for camera, name, _ in alarms.counts if name == detector}


def _cost(verdicts: list[tuple[bool, float | None]], alarms: AlarmCounts, detector: str,
          bar: float, cameras: Sequence[str], target: TargetRecall | None) -> Body:
    body = {"reviewed": len(verdicts), "at_threshold": counts_body(confusion(verdicts, bar)),
            "alarms_per_day": alarms.per_day(detector, bar, cameras)}
    bar_for_target = None if target is None else target.threshold
    body["target"] = {"reached": bar_for_target is not None, "threshold": bar_for_target,
                      "best_recall": None if target is None else target.best_recall,
                      "alarms_per_day": (None if bar_for_target is None
                                         else alarms.per_day(detector, bar_for_target, cameras))}
    return body
