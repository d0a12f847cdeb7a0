"""A second run makes the same demo images and uploads only what the bucket lacks."""

from datetime import UTC, datetime, timedelta

from labelgraph_demo.resume import demo_began, not_stored
from labelgraph_demo.samples import make_samples

FIRST_RUN = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_the_first_run_s_start_is_kept_and_given_back_later(tmp_path) -> None:
    assert demo_began(tmp_path / "state", FIRST_RUN) == FIRST_RUN
    assert demo_began(tmp_path / "state", FIRST_RUN + timedelta(days=3)) == FIRST_RUN


def test_a_resumed_run_uploads_only_the_images_not_stored(tmp_path) -> None:
    began = demo_began(tmp_path, FIRST_RUN)
    first = make_samples(began, count=20)
    stored = {sample.key for sample in first[:15]}  # the first run died after 15 uploads

    later = make_samples(demo_began(tmp_path, FIRST_RUN + timedelta(hours=5)), count=20)

    assert [sample.key for sample in not_stored(later, stored)] == [s.key for s in first[15:]]
