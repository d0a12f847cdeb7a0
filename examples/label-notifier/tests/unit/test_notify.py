"""The notifier's rule, ledger and delivery policy over fakes: no broker, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from labelgraph_devstack.testing import labelled_event
from labelgraph_notifier.ledger import DeliveryLedger
from labelgraph_notifier.notify import Notifier
from labelgraph_notifier.sightings import Sighting, WatchRule, sighting
from labelgraph_notifier.targets import TargetRefused, TargetUnavailable

RULE = WatchRule(camera="frontdoor", label="Person", threshold=90.0)


@dataclass
class FakeTarget:
    """Answers each send with the next of `answers` (None: taken), then takes every one."""

    name: str
    answers: list[Exception | None] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    tries: int = 0

    def send(self, seen: Sighting, image_url: str) -> None:
        self.tries += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.sent.append((seen.event_id, image_url))


def event(camera: str = "frontdoor", labels: dict[str, float] | None = None, key: str = "k.jpg"):
    return labelled_event(f"alarms/{camera}/{key}", labels or {"Person": 97.0}, camera=camera)


def notifier(tmp_path: Path, *targets: FakeTarget, attempts: int = 3) -> Notifier:
    return Notifier(RULE, targets, DeliveryLedger(tmp_path / "ledger.sqlite3"),
                    lambda seen: f"https://link/{seen.object_key}", attempts=attempts,
                    max_wait_seconds=0.01, sleep=lambda seconds: None)


@pytest.mark.parametrize(("camera", "labels", "matches"), [
    ("frontdoor", {"Person": 90.0}, True),      # at the threshold
    ("frontdoor", {"person": 99.0}, True),      # case does not matter
    ("frontdoor", {"Person": 89.99}, False),    # just below
    ("backyard", {"Person": 99.0}, False),      # another camera
    ("frontdoor", {"Dog": 99.0}, False),        # another label
])
def test_the_rule_matches_the_label_at_or_above_the_threshold_on_the_camera(
        camera, labels, matches):
    found = sighting(event(camera, labels), RULE)
    assert (found is not None) == matches
    if found:
        assert (found.camera, found.label) == ("frontdoor", "Person")


def test_each_target_hears_once_per_labelling_even_after_a_reopened_ledger(tmp_path):
    webhook, chat = FakeTarget("webhook"), FakeTarget("apprise")
    labelling = event()
    notifier(tmp_path, webhook, chat).handle(labelling)
    # A restart: a new Notifier over the same file; the event replayed twice.
    again = notifier(tmp_path, webhook, chat)
    again.handle(labelling)
    again.handle(labelling)
    expected = [(labelling.event_id, f"https://link/{labelling.object_key}")]
    assert webhook.sent == chat.sent == expected


def test_an_unavailable_target_is_tried_again_and_a_refusing_one_is_not(tmp_path):
    flaky = FakeTarget("webhook", [TargetUnavailable("503"), TargetUnavailable("503")])
    refusing = FakeTarget("apprise", [TargetRefused("404")])
    labelling = event()
    notifier(tmp_path, flaky, refusing).handle(labelling)
    notifier(tmp_path, flaky, refusing).handle(labelling)  # a replay: the refusal is settled
    assert (flaky.tries, len(flaky.sent)) == (3, 1)
    assert (refusing.tries, refusing.sent) == (1, [])


def test_a_target_down_past_every_try_raises_and_only_it_is_tried_after_a_restart(tmp_path):
    reached, down = FakeTarget("apprise"), FakeTarget("webhook", [TargetUnavailable("x")] * 3)
    labelling = event()
    with pytest.raises(TargetUnavailable):
        notifier(tmp_path, reached, down).handle(labelling)
    notifier(tmp_path, reached, down).handle(labelling)
    assert (len(reached.sent), len(down.sent), down.tries) == (1, 1, 4)
