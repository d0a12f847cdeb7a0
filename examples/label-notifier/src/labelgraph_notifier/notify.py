"""The one use case: a labelling arrives, each target hears of a sighting exactly once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from labelgraph_contract import ImageLabeled
from labelgraph_notifier.ledger import DeliveryLedger
from labelgraph_notifier.sightings import Sighting, WatchRule, sighting
from labelgraph_notifier.targets import NotificationTarget, TargetRefused, TargetUnavailable

log = logging.getLogger(__name__)

ImageLink = Callable[[Sighting], str]


class Notifier:
    """Turns events into notifications, de-duplicated per event_id and target."""

    def __init__(self, rule: WatchRule, targets: Sequence[NotificationTarget],
                 ledger: DeliveryLedger, image_link: ImageLink, *, attempts: int,
                 max_wait_seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._rule = rule
        self._targets = targets
        self._ledger = ledger
        self._image_link = image_link
        self._attempts = attempts
        self._max_wait = max_wait_seconds
        self._sleep = sleep

    def handle(self, event: ImageLabeled) -> None:
        """Notify every target not yet settled for this labelling; TargetUnavailable when
        one stays unavailable after every try (nothing after it should be committed)."""
        seen = sighting(event, self._rule)
        if seen is None:
            return
        pending = [t for t in self._targets if not self._ledger.settled(seen.event_id, t.name)]
        if not pending:
            return
        image_url = self._image_link(seen)
        for target in pending:
            self._ledger.settle(seen.event_id, target.name, self._deliver(target, seen, image_url))

    def _deliver(self, target: NotificationTarget, seen: Sighting, image_url: str) -> str:
        try:
            for attempt in self._retrying():
                with attempt:
                    target.send(seen, image_url)
        except TargetRefused as error:
            log.error("notification refused for good: target=%s event_id=%s reason=%s",
                      target.name, seen.event_id, error)
            return "refused"
        log.info("notified: target=%s event_id=%s", target.name, seen.event_id)
        return "sent"

    def _retrying(self) -> Retrying:
        return Retrying(retry=retry_if_exception_type(TargetUnavailable),
                        stop=stop_after_attempt(self._attempts),
                        wait=wait_exponential(multiplier=0.5, max=self._max_wait),
                        sleep=self._sleep, reraise=True)
