"""Which events are worth a notification, and what it says: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from labelgraph_contract import ImageLabeled


@dataclass(frozen=True)
class WatchRule:
    """Notify when `label` is seen at or above `threshold` on `camera`."""

    camera: str
    label: str
    threshold: float


@dataclass(frozen=True)
class Sighting:
    """One labelling that matched the rule: what a notification is about."""

    event_id: str
    camera: str
    label: str
    confidence: float
    captured_at: str
    bucket: str
    object_key: str

    @property
    def title(self) -> str:
        return f"{self.label} at {self.camera}"

    def message(self, image_url: str) -> str:
        return (f"{self.label} ({self.confidence:.1f}%) on camera {self.camera} at "
                f"{self.captured_at}: {image_url}")


def sighting(event: ImageLabeled, rule: WatchRule) -> Sighting | None:
    """The sighting in `event` if the rule's label is at or above its threshold there."""
    if event.camera != rule.camera:
        return None
    wanted = rule.label.casefold()
    confidences = [label.confidence for label in event.labels if label.name.casefold() == wanted]
    if not confidences or max(confidences) < rule.threshold:
        return None
    return Sighting(event_id=event.event_id, camera=event.camera,
                    label=rule.label, confidence=max(confidences),
                    captured_at=event.captured_at.isoformat(), bucket=event.bucket,
                    object_key=event.object_key)
