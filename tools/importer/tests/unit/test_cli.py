import pytest

from labelgraph_importer.cli import main
from labelgraph_importer.store import FakeImageStore


@pytest.fixture(autouse=True)
def camera_clock(monkeypatch):
    monkeypatch.setenv("CAMERA_TIMEZONE", "America/Los_Angeles")
    monkeypatch.setenv("IMAGE_BUCKET", "security-alarms")


def test_a_dry_run_says_per_file_what_would_happen_and_where_the_time_came_from(
        make_still, tmp_path, capsys):
    make_still("mdalarm_20170105-165117.jpg")
    make_still("IMG_2.jpg", seed=2, original="2017:01:05 16:51:17", offset="-08:00")
    store = FakeImageStore()
    status = main(["--camera", "frontdoor", "--dry-run", str(tmp_path / "stills")], store)
    out = capsys.readouterr().out
    assert status == 0 and store.objects == {}
    assert "would import" in out and "(time from exif)" in out and "(time from file-name)" in out
    assert "2 files for camera frontdoor in bucket security-alarms" in out
    assert "capture time from: exif 1, file-name 1" in out
    assert "dry run: nothing was uploaded" in out


def test_anything_refused_makes_the_exit_status_1_and_is_told_with_its_reason(
        make_still, tmp_path, capsys):
    make_still("mdalarm_20170105-165117.jpg")
    (tmp_path / "stills" / "clip.mov").write_bytes(b"\x00\x00\x00\x18ftypqt")
    store = FakeImageStore()
    status = main(["--camera", "frontdoor", str(tmp_path / "stills")], store)
    out = capsys.readouterr().out
    assert status == 1 and len(store.objects) == 1
    assert "clip.mov: not_an_image: .mov: only JPEG and PNG" in out
    assert "1 imported, 0 skipped, 1 refused" in out and "refused: not_an_image 1" in out


def test_a_quiet_run_tells_only_refusals_and_the_summary(make_still, tmp_path, capsys):
    path = make_still("mdalarm_20170105-165117.jpg")
    store = FakeImageStore()
    assert main(["--camera", "frontdoor", str(path)], store) == 0
    assert main(["--camera", "frontdoor", str(path)], store) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].endswith("0 imported, 1 skipped, 0 refused")
    assert not any(line.startswith(("imported", "skipped")) for line in out)


@pytest.mark.parametrize("camera", ["front/door", "../x", ""])
def test_a_camera_name_the_layout_cannot_hold_stops_before_anything(camera, make_still,
                                                                   capsys):
    store = FakeImageStore()
    with pytest.raises(SystemExit) as stopped:
        main(["--camera", camera, str(make_still("a.jpg"))], store)
    assert stopped.value.code == 2 and store.puts == 0
    assert "is not a camera name" in capsys.readouterr().err


def test_a_time_zone_that_is_none_stops_with_its_name(monkeypatch, make_still, capsys):
    monkeypatch.setenv("CAMERA_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SystemExit):
        main(["--camera", "frontdoor", str(make_still("a.jpg"))], FakeImageStore())
    assert "CAMERA_TIMEZONE 'Mars/Olympus' is no IANA time zone" in capsys.readouterr().err


def test_watch_follows_exactly_one_folder(make_still, tmp_path, capsys):
    path = make_still("a.jpg")
    for paths in ([str(path)], [str(tmp_path), str(tmp_path)]):
        with pytest.raises(SystemExit) as stopped:
            main(["--camera", "frontdoor", "--watch", *paths], FakeImageStore())
        assert stopped.value.code == 2
    assert "--watch follows one folder" in capsys.readouterr().err
