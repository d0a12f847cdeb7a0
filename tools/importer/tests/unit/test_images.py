import io

import exifread
import pytest

from labelgraph_importer import images
from labelgraph_importer.images import FileRefusal, ImageKind, exif_times, read_image

from ..conftest import still_bytes


def test_a_jpeg_tells_its_exif_times_name_and_modification_time(make_still):
    path = make_still("IMG_1.jpg", original="2017:01:05 16:51:17", offset="+01:00",
                      mtime=1_500_000_000)
    image = read_image(path)
    assert image.kind is ImageKind.JPEG
    assert (image.clues.exif_original, image.clues.exif_offset) == ("2017:01:05 16:51:17",
                                                                     "+01:00")
    assert (image.clues.file_name, image.clues.modified_epoch) == ("IMG_1.jpg", 1_500_000_000)
    assert image.content == path.read_bytes() and len(image.sha256) == 64


def test_a_png_is_taken_by_its_bytes(make_still):
    image = read_image(make_still("shot.PNG", image_format="PNG"))
    assert image.kind is ImageKind.PNG and image.kind.content_type == "image/png"


@pytest.mark.parametrize(("name", "image_format", "detail"), [
    ("notes.txt", "JPEG", ".txt: only JPEG and PNG"),
    ("clip.gif", "GIF", ".gif: only JPEG and PNG"),
    ("README", "JPEG", "no extension"),
    ("really-a.png.jpg", "PNG", "named JPEG but its bytes are not one"),
])
def test_anything_but_a_jpeg_or_png_is_refused_with_a_reason(make_still, name, image_format,
                                                             detail):
    with pytest.raises(FileRefusal, match=detail) as refused:
        read_image(make_still(name, image_format=image_format))
    assert refused.value.reason == "not_an_image"


def test_a_file_over_the_bound_is_refused_unread(make_still, monkeypatch):
    path = make_still("big.jpg")
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", path.stat().st_size - 1)
    with pytest.raises(FileRefusal, match="over") as refused:
        read_image(path)
    assert refused.value.reason == "too_large"


@pytest.mark.parametrize(("name", "detail"), [("gone.jpg", "no such file"),
                                             ("gone", "no such file"),
                                             ("folder.jpg", "not a regular file")])
def test_a_missing_file_or_a_folder_is_refused_as_unreadable(tmp_path, name, detail):
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(FileRefusal, match=detail) as refused:
        read_image(tmp_path / name)
    assert refused.value.reason == "unreadable"


def test_a_mangled_exif_is_no_exif():
    # The Exif IFD pointer claims 1.6 billion values: exifread itself raises on it.
    pointer = b"\x87\x69\x00\x04\x00\x00\x00\x01"
    jpeg = still_bytes(original="2017:01:05 16:51:17")
    assert pointer in jpeg
    mangled = jpeg.replace(pointer, b"\x87\x69\x00\x04\x61\x00\x00\x01")
    with pytest.raises(IndexError):
        exifread.process_file(io.BytesIO(mangled), details=False, extract_thumbnail=False)
    assert exif_times(mangled) == (None, None)
