"""The importer against the embedded stack's real S3 (moto server), configured only by the
environment, as on AWS; and the labeler's own KeyLayout reading back what it wrote."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from labelgraph_devstack.polling import wait_for
from labelgraph_devstack.testing import aws_client
from labelgraph_importer.cli import main
from labelgraph_importer.importing import Action, Importer
from labelgraph_importer.store import S3ImageStore
from labelgraph_importer.watching import FolderWatch
from labelgraph_labeler.config import DEFAULT_KEY_PATTERN
from labelgraph_labeler.domain import KeyLayout, StoredImage

pytestmark = pytest.mark.stack

ZONE = "America/Los_Angeles"
LA = ZoneInfo(ZONE)
PHOTOS = Path(__file__).resolve().parents[3] / "samples" / "photos"
EXIF_IFD, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011


@dataclass(frozen=True)
class Still:
    """A file put in the folder, and the capture time the importer must find for it."""

    path: Path
    taken: datetime


@dataclass(frozen=True)
class Bucket:
    """A fresh bucket of the stack's moto (no notification: the shared queue stays quiet)."""

    name: str
    s3: Any

    def objects(self) -> dict[str, str]:
        listed = self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {item["Key"]: item["ETag"] for item in listed}

    def stored(self, key: str) -> StoredImage:
        head = self.s3.head_object(Bucket=self.name, Key=key)
        return StoredImage(self.name, key, head["ETag"].strip('"'), head["LastModified"],
                           head["Metadata"])

    def content(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Bucket:
    name = f"import-{uuid.uuid4().hex[:12]}"
    s3 = aws_client(stack_env, "s3")
    s3.create_bucket(Bucket=name)
    monkeypatch.setenv("IMAGE_BUCKET", name)
    monkeypatch.setenv("CAMERA_TIMEZONE", ZONE)
    return Bucket(name, s3)


def with_exif(photo: Path, original: str, offset: str | None) -> bytes:
    image = Image.open(photo)
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = original
    if offset:
        exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] = offset
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80, exif=exif)
    return buffer.getvalue()


def photo_folder(folder: Path, count: int = 12) -> list[Still]:
    """Real photographs as a camera owner has them: named with the camera's stamp, with
    EXIF (with and without offset), or with nothing but their modification time."""
    folder.mkdir()
    stills = []
    for index, photo in enumerate(sorted(PHOTOS.glob("*.jpg"))[:count]):
        second = 10 + index
        match index % 4:
            case 0:
                path = folder / f"mdalarm_20170105-1651{second}.jpg"
                shutil.copyfile(photo, path)
                taken = datetime(2017, 1, 5, 16, 51, second, tzinfo=LA)
            case 1:
                path = folder / f"exif-{photo.name}"
                path.write_bytes(with_exif(photo, f"2017:07:04 09:30:{second}", "+09:00"))
                taken = datetime.fromisoformat(f"2017-07-04T09:30:{second}+09:00")
            case 2:
                path = folder / f"camera-clock-{photo.name}"
                path.write_bytes(with_exif(photo, f"2017:07:04 23:59:{second}", None))
                taken = datetime(2017, 7, 4, 23, 59, second, tzinfo=LA)
            case _:
                path = folder / photo.name
                shutil.copyfile(photo, path)
                taken = datetime(2019, 3, 10, 3, 0, second, tzinfo=LA)  # just after DST began
                os.utime(path, (taken.timestamp(), taken.timestamp()))
        stills.append(Still(path, taken))
    return stills


def test_a_folder_is_imported_where_and_when_the_labeler_reads_it(bucket, tmp_path, capsys):
    stills = photo_folder(tmp_path / "stills")
    assert main(["--camera", "frontdoor", "--verbose", str(tmp_path / "stills")]) == 0
    out = capsys.readouterr().out
    assert "12 imported, 0 skipped, 0 refused" in out
    assert "capture time from: exif 3, exif-camera-clock 3, file-name 3, modified-time 3" in out
    keys = bucket.objects()
    assert len(keys) == len(stills)
    labeler = KeyLayout.from_settings(DEFAULT_KEY_PATTERN, ZONE)
    for still in stills:
        key = next(k for k in keys if bucket.content(k) == still.path.read_bytes())
        stored = bucket.stored(key)
        assert labeler.camera(key) == "frontdoor"
        assert labeler.captured_at(stored) == still.taken, key
        # Without the metadata the key's own stamp names the same second.
        bare = StoredImage(stored.bucket, key, stored.etag, stored.last_modified, {})
        assert labeler.captured_at(bare) == still.taken, key


def test_importing_again_skips_everything_and_writes_nothing(bucket, tmp_path, capsys):
    photo_folder(tmp_path / "stills")
    assert main(["--camera", "frontdoor", str(tmp_path / "stills")]) == 0
    before = {key: bucket.stored(key).last_modified for key in bucket.objects()}
    capsys.readouterr()
    assert main(["--camera", "frontdoor", str(tmp_path / "stills")]) == 0
    assert "0 imported, 12 skipped, 0 refused" in capsys.readouterr().out
    assert {key: bucket.stored(key).last_modified for key in bucket.objects()} == before


def test_a_changed_file_under_an_imported_key_is_refused_and_the_stored_one_kept(
        bucket, tmp_path, capsys):
    stills = photo_folder(tmp_path / "stills", count=4)
    assert main(["--camera", "frontdoor", str(tmp_path / "stills")]) == 0
    stamped = stills[0].path  # mdalarm_20170105-165110.jpg: its name fixes its key
    key = "alarms/frontdoor/2017-01-05/16/mdalarm_20170105-165110.jpg"
    original = bucket.content(key)
    stamped.write_bytes(with_exif(PHOTOS / "horse.jpg", "bad", None))  # another image
    capsys.readouterr()
    assert main(["--camera", "frontdoor", str(tmp_path / "stills")]) == 1
    out = capsys.readouterr().out
    assert f"mdalarm_20170105-165110.jpg: key_taken: a different image is stored as {key}" in out
    assert "0 imported, 3 skipped, 1 refused" in out
    assert bucket.content(key) == original


def test_the_same_photograph_under_another_name_is_not_imported_twice(bucket, tmp_path,
                                                                      capsys):
    folder = tmp_path / "stills"
    folder.mkdir()
    shutil.copyfile(PHOTOS / "rocket.jpg", folder / "front_20170105-165117.jpg")
    shutil.copyfile(PHOTOS / "rocket.jpg", folder / "front_20170105-165117 (1).jpg")
    assert main(["--camera", "frontdoor", "-v", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 imported, 1 skipped" in out and "a copy: the same image under another name" in out
    # The first in the folder's order is imported ("(1)" sorts before ".jpg").
    assert list(bucket.objects()) == [
        "alarms/frontdoor/2017-01-05/16/front_20170105-165117-1_20170105-165117.jpg"]


def test_the_command_runs_from_the_environment_alone_and_a_dry_run_uploads_nothing(
        bucket, tmp_path):
    photo_folder(tmp_path / "stills", count=4)
    (tmp_path / "stills" / "notes.txt").write_text("not a still")
    done = subprocess.run(
        [sys.executable, "-m", "labelgraph_importer", "--camera", "frontdoor", "--dry-run",
         str(tmp_path / "stills")],
        capture_output=True, text=True, env=os.environ, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert "0 imported, 4 would import, 0 skipped, 1 refused" in done.stdout
    assert "notes.txt: not_an_image" in done.stdout and "(time from exif)" in done.stdout
    assert bucket.objects() == {}


def test_the_s3_store_never_writes_over_a_taken_key(bucket, stack_env):
    store = S3ImageStore(aws_client(stack_env, "s3"), bucket.name)
    assert store.put_new("alarms/x/k.jpg", b"first", "image/jpeg", {"content_sha256": "1"})
    assert not store.put_new("alarms/x/k.jpg", b"second", "image/jpeg", {})
    assert bucket.content("alarms/x/k.jpg") == b"first"
    assert store.metadata("alarms/x/k.jpg") == {"content_sha256": "1"}
    assert store.metadata("alarms/x/none.jpg") is None
    assert [item.key for item in store.list_folder("alarms/x/")] == ["alarms/x/k.jpg"]


def test_a_watched_folder_is_imported_into_s3_and_not_again_after_a_restart(bucket,
                                                                           stack_env,
                                                                           tmp_path):
    store = S3ImageStore(aws_client(stack_env, "s3"), bucket.name)
    shutil.copyfile(PHOTOS / "chelsea.jpg", tmp_path / "cat_20170105-165117.jpg")
    watch = FolderWatch(tmp_path, Importer(store, "backyard", LA))
    assert watch.poll() == []
    assert [o.action for o in watch.poll()] == [Action.IMPORTED]
    restarted = FolderWatch(tmp_path, Importer(store, "backyard", LA))
    assert restarted.poll() == []
    assert [o.action for o in restarted.poll()] == [Action.SKIPPED]
    assert list(bucket.objects()) == ["alarms/backyard/2017-01-05/16/cat_20170105-165117.jpg"]


def test_the_watch_command_imports_what_is_dropped_and_stops_on_sigterm(bucket, tmp_path):
    key = "alarms/porch/2017-01-05/16/cat_20170105-165117.jpg"
    follower = subprocess.Popen(
        [sys.executable, "-m", "labelgraph_importer", "--camera", "porch", "--watch",
         "--interval", "0.1", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        shutil.copyfile(PHOTOS / "chelsea.jpg", tmp_path / "cat_20170105-165117.jpg")
        wait_for(lambda: key in bucket.objects(), 30, what=f"{key} in the bucket")
    finally:
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    assert f"imported      {tmp_path}/cat_20170105-165117.jpg -> {key}" in out
    assert "1 imported, 0 skipped, 0 refused" in out
