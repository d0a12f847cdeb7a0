from datetime import UTC, datetime, timedelta

from labelgraph_demo.samples import ground_truth, make_samples, stub_rules

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_demo_detector_is_sure_and_right_when_it_speaks_but_misses_many():
    samples = make_samples(NOW)
    reported = [s for s in samples if s.detected_person]
    present = [s for s in samples if s.has_person]
    precision = sum(s.has_person for s in reported) / len(reported)
    recall = sum(s.detected_person for s in present) / len(present)
    assert precision >= 0.9
    assert recall <= 0.6
    confidences = [label["Confidence"] for s in reported for label in s.labels
                   if label["Name"] == "Person"]
    assert min(confidences) >= 95


def test_samples_span_cameras_days_and_the_last_two_hours():
    samples = make_samples(NOW)
    assert len({s.camera for s in samples}) == 5
    assert len({s.captured_at.date() for s in samples}) >= 5
    assert any(NOW - s.captured_at < timedelta(hours=2) for s in samples)


def test_ground_truth_and_rules_cover_every_sample_once():
    samples = make_samples(NOW)
    truth = ground_truth(samples)
    rules = stub_rules(samples)["rules"]
    assert [t["object_key"] for t in truth] == [r["match"]["key"] for r in rules]
    assert len({s.key for s in samples}) == len(samples)
    assert sum(t["present"] for t in truth) == sum(s.has_person for s in samples)


def test_scene_is_a_jpeg():
    assert make_samples(NOW, count=1)[0].jpeg()[:3] == b"\xff\xd8\xff"
