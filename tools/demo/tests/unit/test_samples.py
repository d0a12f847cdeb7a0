from datetime import UTC, datetime, timedelta

from labelgraph_demo.samples import (
    LEFT_FOR_YOU,
    ground_truth,
    make_samples,
    photo_truth,
    stub_rules,
    to_record,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_stand_in_is_sure_and_right_when_it_speaks_but_misses_about_half():
    samples = make_samples(NOW)
    reported = [s for s in samples if s.detected_person]
    present = [s for s in samples if s.has_person]
    assert all(s.has_person for s in reported)
    assert 0.3 <= len(reported) / len(present) <= 0.6
    confidences = [label["Confidence"] for s in reported for label in s.labels]
    assert min(confidences) >= 95


def test_every_photograph_is_shown_before_any_repeats_with_its_truth():
    truth = photo_truth()
    samples = make_samples(NOW, count=len(truth) + 5)
    assert sorted(s.photo.name for s in samples[:len(truth)]) == sorted(truth)
    assert all(s.has_person == truth[s.photo.name] for s in samples)
    assert samples[0].jpeg()[:3] == b"\xff\xd8\xff"


def test_samples_span_cameras_days_and_the_last_two_hours():
    samples = make_samples(NOW)
    assert len({s.camera for s in samples}) == 5
    assert len({s.captured_at.date() for s in samples}) >= 5
    assert any(NOW - s.captured_at < timedelta(hours=2) for s in samples)


def test_the_same_seed_makes_the_same_demo():
    assert make_samples(NOW) == make_samples(NOW)


def test_ground_truth_and_rules_cover_every_sample_once():
    samples = make_samples(NOW)
    truth = ground_truth(samples)
    rules = stub_rules(samples)["rules"]
    assert [t["object_key"] for t in truth] == [r["match"]["key"] for r in rules]
    assert len({s.key for s in samples}) == len(samples)
    assert sum(t["present"] for t in truth) == sum(s.has_person for s in samples)


def test_the_ground_truth_step_leaves_one_cameras_images_for_the_user():
    samples = make_samples(NOW)
    left = [s.key for s in samples if s.camera == LEFT_FOR_YOU]
    recorded = {verdict["object_key"] for verdict in to_record(ground_truth(samples))}
    assert len(left) == len(samples) // 5 and recorded.isdisjoint(left)
    assert len(recorded) == len(samples) - len(left)
    assert len(to_record(ground_truth(samples), None)) == len(samples)
