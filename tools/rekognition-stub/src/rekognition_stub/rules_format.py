"""The rules document's JSON form: validated on the way in, written back on the way out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rekognition_stub.errors import DETECT_LABELS_ERRORS
from rekognition_stub.rules import (
    Answer,
    BoundingBox,
    Instance,
    Label,
    Match,
    Named,
    Rule,
    RulesDocument,
)


class RulesError(ValueError):
    """A rules document that cannot be used; the message names the offending field."""


_DOCUMENT_FIELDS = {"model_version", "default", "rules"}
_RULE_FIELDS = {"match", "labels", "error", "message", "times"}
_MATCH_FIELDS = {"key", "key_glob", "bucket", "sha256"}
_LABEL_FIELDS = {"Name", "Confidence", "Instances", "Parents", "Aliases", "Categories"}
_INSTANCE_FIELDS = {"BoundingBox", "Confidence"}
_BOX_FIELDS = ("Width", "Height", "Left", "Top")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def parse_document(raw: Any) -> RulesDocument:
    """Validate a rules document read from JSON."""
    fields = _object(raw, "document", _DOCUMENT_FIELDS)
    default = fields.get("default")
    return RulesDocument(
        model_version=_string(fields.get("model_version", "3.0"), "model_version"),
        default=None if default is None else _default(default),
        rules=parse_rules(fields.get("rules", []), "rules"),
    )


def parse_rules(raw: Any, path: str = "rules") -> tuple[Rule, ...]:
    """Validate a JSON list of rules."""
    return tuple(_rule(item, f"{path}[{i}]") for i, item in enumerate(_list(raw, path)))


def document_to_json(document: RulesDocument) -> dict[str, Any]:
    """The JSON form of a document; parse_document reads it back unchanged."""
    default = None if document.default is None else {"labels": list(document.default)}
    return {
        "model_version": document.model_version,
        "default": default,
        "rules": [_rule_to_json(rule) for rule in document.rules],
    }


def _rule_to_json(rule: Rule) -> dict[str, Any]:
    match = {name: value for name, value in vars(rule.match).items() if value is not None}
    out: dict[str, Any] = {"match": match}
    if rule.answer.error is None:
        out["labels"] = list(rule.answer.labels)
    else:
        out["error"] = rule.answer.error
        if rule.answer.message is not None:
            out["message"] = rule.answer.message
    if rule.times is not None:
        out["times"] = rule.times
    return out


def _default(raw: Any) -> tuple[Label, ...]:
    fields = _object(raw, "default", {"labels"}, required=("labels",))
    return _labels(fields["labels"], "default.labels")


def _rule(raw: Any, path: str) -> Rule:
    fields = _object(raw, path, _RULE_FIELDS)
    if ("labels" in fields) == ("error" in fields):
        raise RulesError(f"{path} needs exactly one of 'labels' or 'error'")
    return Rule(
        match=_match(fields.get("match", {}), f"{path}.match"),
        answer=_answer(fields, path),
        times=_times(fields.get("times"), f"{path}.times"),
    )


def _answer(fields: dict[str, Any], path: str) -> Answer:
    if "labels" in fields:
        if "message" in fields:
            raise RulesError(f"{path}.message only goes with 'error'")
        return Answer(labels=_labels(fields["labels"], f"{path}.labels"))
    error = _string(fields["error"], f"{path}.error")
    if error not in DETECT_LABELS_ERRORS:
        known = ", ".join(sorted(DETECT_LABELS_ERRORS))
        raise RulesError(f"{path}.error {error!r} is not a DetectLabels error; use one of {known}")
    message = fields.get("message")
    return Answer(
        error=error, message=None if message is None else _string(message, f"{path}.message")
    )


def _match(raw: Any, path: str) -> Match:
    fields = _object(raw, path, _MATCH_FIELDS)
    values = {name: _string(value, f"{path}.{name}") for name, value in fields.items()}
    digest = values.get("sha256")
    if digest is not None:
        if not _SHA256.match(digest):
            raise RulesError(f"{path}.sha256 must be 64 hex digits")
        values["sha256"] = digest.lower()
    return Match(**values)


def _times(raw: Any, path: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise RulesError(f"{path} must be a whole number >= 0")
    return raw


def _labels(raw: Any, path: str) -> tuple[Label, ...]:
    return tuple(_label(item, f"{path}[{i}]") for i, item in enumerate(_list(raw, path)))


def _label(raw: Any, path: str) -> Label:
    fields = _object(raw, path, _LABEL_FIELDS, required=("Name", "Confidence"))
    confidence = _number(fields["Confidence"], f"{path}.Confidence", 100)
    instances = _list(fields.get("Instances", []), f"{path}.Instances")
    return Label(
        Name=_string(fields["Name"], f"{path}.Name"),
        Confidence=confidence,
        Instances=[
            _instance(item, f"{path}.Instances[{i}]", confidence)
            for i, item in enumerate(instances)
        ],
        Parents=_names(fields.get("Parents", []), f"{path}.Parents"),
        Aliases=_names(fields.get("Aliases", []), f"{path}.Aliases"),
        Categories=_names(fields.get("Categories", []), f"{path}.Categories"),
    )


def _instance(raw: Any, path: str, label_confidence: float) -> Instance:
    """An instance; without its own Confidence it takes the label's."""
    fields = _object(raw, path, _INSTANCE_FIELDS, required=("BoundingBox",))
    box = _object(fields["BoundingBox"], f"{path}.BoundingBox", set(_BOX_FIELDS), _BOX_FIELDS)
    sides = {name: _number(box[name], f"{path}.BoundingBox.{name}", 1) for name in _BOX_FIELDS}
    return Instance(
        BoundingBox=BoundingBox(
            Width=sides["Width"], Height=sides["Height"], Left=sides["Left"], Top=sides["Top"]
        ),
        Confidence=_number(fields.get("Confidence", label_confidence), f"{path}.Confidence", 100),
    )


def _names(raw: Any, path: str) -> list[Named]:
    names = []
    for i, item in enumerate(_list(raw, path)):
        fields = _object(item, f"{path}[{i}]", {"Name"}, required=("Name",))
        names.append(Named(Name=_string(fields["Name"], f"{path}[{i}].Name")))
    return names


def _object(
    raw: Any, path: str, allowed: set[str], required: Iterable[str] = ()
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RulesError(f"{path} must be a JSON object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise RulesError(f"{path} has unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    missing = [name for name in required if name not in raw]
    if missing:
        raise RulesError(f"{path} is missing {missing}")
    return raw


def _list(raw: Any, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise RulesError(f"{path} must be a JSON list")
    return raw


def _string(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise RulesError(f"{path} must be a non-empty string")
    return raw


def _number(raw: Any, path: str, high: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= high:
        raise RulesError(f"{path} must be a number from 0 to {high}")
    return float(raw)
