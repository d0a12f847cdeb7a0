from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from labelgraph_importer.capture import TimeSource
from labelgraph_importer.importing import Action, Importer, Summary, discover
from labelgraph_importer.store import FakeImageStore, StoredObject

LA = ZoneInfo("America/Los_Angeles")
KEY = "alarms/frontdoor/2017-01-05/16/mdalarm_20170105-165117.jpg"


@pytest.fixture
def store() -> FakeImageStore:
    return FakeImageStore()


def importer(store, dry_run: bool = False) -> Importer:
    return Importer(store, "frontdoor", LA, dry_run=dry_run)


def test_a_new_still_is_uploaded_with_its_exact_time_and_hash(store, make_still):
    path = make_still("mdalarm_20170105-165117.jpg")
    outcome = importer(store).import_file(path)
    assert (outcome.action, outcome.key, outcome.source) == (Action.IMPORTED, KEY,
                                                             TimeSource.FILE_NAME)
    content, metadata = store.objects[KEY]
    assert content == path.read_bytes()
    assert metadata["camera_timestamp"] == "2017-01-05T16:51:17-08:00"
    assert metadata["capture_time_source"] == "file-name"
    assert len(metadata["content_sha256"]) == 64


def test_importing_again_skips_what_is_in_without_a_put(store, make_still):
    path = make_still("mdalarm_20170105-165117.jpg")
    importer(store).import_file(path)
    again = importer(store).import_file(path)  # a new run: only the bucket remembers
    assert (again.action, again.key, again.detail) == (Action.SKIPPED, KEY, "already imported")
    assert store.puts == 1


def test_the_same_image_under_another_name_is_skipped_as_its_twin(store, make_still):
    first = make_still("IMG_0001.jpg", original="2017:01:05 16:51:17")
    copy = make_still("IMG_0001 (copy).jpg", original="2017:01:05 16:51:17")
    importer(store).import_file(first)
    outcome = importer(store).import_file(copy)
    assert outcome.action is Action.SKIPPED
    assert outcome.key == "alarms/frontdoor/2017-01-05/16/IMG_0001_20170105-165117.jpg"
    assert "a copy: the same image under another name" in outcome.detail and store.puts == 1


def test_a_different_image_under_a_taken_key_is_refused_and_left_alone(store, make_still):
    store.add(KEY, b"the camera's own upload")
    outcome = importer(store).import_file(make_still("mdalarm_20170105-165117.jpg"))
    assert (outcome.action, outcome.reason) == (Action.REFUSED, "key_taken")
    assert store.objects[KEY][0] == b"the camera's own upload" and store.puts == 0


class MultipartStore(FakeImageStore):
    """ETags as S3 gives multipart and KMS-encrypted objects: no MD5 of the bytes."""

    def list_folder(self, prefix: str) -> list[StoredObject]:
        return [StoredObject(o.key, "0" * 32 + "-2") for o in super().list_folder(prefix)]


def test_without_an_md5_etag_the_hash_in_the_metadata_tells_same_content(make_still):
    store = MultipartStore()
    path = make_still("mdalarm_20170105-165117.jpg")
    importer(store).import_file(path)
    assert importer(store).import_file(path).action is Action.SKIPPED
    other = make_still("mdalarm_20170105-165117.jpg", seed=9, folder=path.parent / "other")
    assert importer(store).import_file(other).reason == "key_taken"


def test_a_dry_run_uploads_nothing_and_still_tells_duplicates(store, make_still):
    path = make_still("mdalarm_20170105-165117.jpg")
    run = importer(store, dry_run=True)
    first, second = run.import_file(path), run.import_file(path)
    assert (first.action, first.key) == (Action.WOULD_IMPORT, KEY)
    assert second.action is Action.SKIPPED
    assert store.objects == {} and store.puts == 0


class RacingStore(FakeImageStore):
    """Another uploader puts `rival` under the key between our listing and our put."""

    def __init__(self, rival: bytes) -> None:
        super().__init__()
        self.rival = rival

    def put_new(self, key, content, content_type, metadata) -> bool:
        self.add(key, self.rival)
        return super().put_new(key, content, content_type, metadata)


def test_losing_a_race_for_a_key_refuses_a_different_image(make_still):
    store = RacingStore(b"someone else's")
    outcome = importer(store).import_file(make_still("mdalarm_20170105-165117.jpg"))
    assert (outcome.action, outcome.reason) == (Action.REFUSED, "key_taken")
    assert store.objects[KEY][0] == b"someone else's"


def test_losing_a_race_to_the_same_image_is_a_skip(make_still):
    path = make_still("mdalarm_20170105-165117.jpg")
    store = RacingStore(path.read_bytes())
    assert importer(store).import_file(path).action is Action.SKIPPED


def test_refusals_name_their_reason_and_count_in_the_summary(store, make_still, tmp_path):
    (tmp_path / "notes.txt").write_text("not a still")
    outcomes = [importer(store).import_file(path) for path in (
        make_still("mdalarm_20170105-165117.jpg"), tmp_path / "notes.txt",
        tmp_path / "gone.jpg", make_still("old.jpg", mtime=5.0),
        make_still("bad\x1bname_20170105-165117.jpg"))]
    summary = Summary()
    for outcome in outcomes:
        summary.add(outcome)
    assert [o.reason for o in outcomes[1:]] == ["not_an_image", "unreadable",
                                                "no_capture_time", "file_name"]
    assert summary.refused == 4 and summary.actions[Action.IMPORTED] == 1
    assert summary.sources == {"file-name": 1}
    assert "\x1b" not in outcomes[4].path + outcomes[4].detail


def test_exif_time_names_the_key_over_the_file_names_stamp(store, make_still):
    path = make_still("mdalarm_20170105-165117.jpg", original="2018:02:03 04:05:06",
                      offset="+00:00")
    outcome = importer(store).import_file(path)
    assert outcome.source is TimeSource.EXIF
    assert outcome.key == "alarms/frontdoor/2018-02-02/20/mdalarm_20180202-200506.jpg"
    stamp = store.objects[outcome.key][1]["camera_timestamp"]
    assert datetime.fromisoformat(stamp) == datetime.fromisoformat("2018-02-03T04:05:06+00:00")


def test_discover_walks_folders_in_order_past_hidden_files(tmp_path):
    for name in ("b/2.jpg", "b/1.jpg", "a.jpg", ".DS_Store", ".thumbs/x.jpg", "b/.hidden"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = list(discover([tmp_path, tmp_path / "missing.jpg", tmp_path / ".DS_Store"]))
    assert found == [tmp_path / "a.jpg", tmp_path / "b/1.jpg", tmp_path / "b/2.jpg",
                     tmp_path / "missing.jpg", tmp_path / ".DS_Store"]
    assert isinstance(found[0], Path)
