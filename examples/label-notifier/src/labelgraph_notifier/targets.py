"""Where notifications go: a webhook of JSON, and any target apprise knows."""

from __future__ import annotations

from typing import Any, Protocol

import apprise
import httpx

from labelgraph_notifier.sightings import Sighting


class TargetUnavailable(Exception):
    """The target did not take the notification now; a later try may succeed."""


class TargetRefused(Exception):
    """The target refused this notification; trying again changes nothing."""


class NotificationTarget(Protocol):
    name: str

    def send(self, sighting: Sighting, image_url: str) -> None:
        """Deliver, or raise TargetUnavailable / TargetRefused."""


# What a server says when a later try may succeed: it timed out, is rate limiting, or is down.
_RETRYABLE_STATUS = {408, 425, 429}


class WebhookTarget:
    """POSTs the sighting as JSON, with the event id as Idempotency-Key."""

    name = "webhook"

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._client = httpx.Client(timeout=timeout_seconds)

    def send(self, sighting: Sighting, image_url: str) -> None:
        try:
            response = self._client.post(self._url, json=webhook_body(sighting, image_url),
                                         headers={"Idempotency-Key": sighting.event_id})
        except httpx.TransportError as error:
            raise TargetUnavailable(f"webhook unreachable: {error!r}") from error
        if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
            raise TargetUnavailable(f"webhook answered {response.status_code}")
        if response.status_code >= 300:
            raise TargetRefused(f"webhook answered {response.status_code}")


def webhook_body(sighting: Sighting, image_url: str) -> dict[str, Any]:
    return {"event_id": sighting.event_id, "camera": sighting.camera,
            "label": sighting.label, "confidence": sighting.confidence,
            "captured_at": sighting.captured_at, "object_key": sighting.object_key,
            "image_url": image_url, "title": sighting.title,
            "message": sighting.message(image_url)}


class AppriseTarget:
    """Every apprise URL given (mail, Slack, ntfy, Telegram, json://...), as one target."""

    name = "apprise"

    def __init__(self, urls: list[str]) -> None:
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                # The URL itself is not shown: apprise URLs carry tokens and passwords.
                raise ValueError(f"apprise does not understand the URL of scheme "
                                 f"{url.partition('://')[0][:20]!r}")

    def send(self, sighting: Sighting, image_url: str) -> None:
        # apprise says only whether every service took it, not why one did not: a failure
        # is taken as one a later try may mend, and the tries are bounded.
        if not self._apprise.notify(title=sighting.title, body=sighting.message(image_url),
                                    body_format=apprise.NotifyFormat.TEXT):
            raise TargetUnavailable("an apprise target did not take the notification")
