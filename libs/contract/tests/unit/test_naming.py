import pytest

from labelgraph_contract import (
    DetectorEntry,
    checkpoint_key_name,
    label_table_name,
    parse_detectors,
)


def test_entries_are_kinds_or_name_equals_kind():
    assert parse_detectors(" aws-rekognition , stand-in=aws-rekognition,opencv-hog") == (
        DetectorEntry("aws-rekognition", "aws-rekognition"),
        DetectorEntry("stand-in", "aws-rekognition"),
        DetectorEntry("opencv-hog", "opencv-hog"),
    )


@pytest.mark.parametrize(("text", "complaint"), [
    ("", "names no detector"),
    (" , ", "names no detector"),
    ("Upper=aws-rekognition", "lowercase letters"),
    ("a b=aws-rekognition", "lowercase letters"),
    ("a/b=aws-rekognition", "lowercase letters"),
    (f"{'x' * 65}=aws-rekognition", "1-64"),
    ("name=", "has no kind"),
    ("aws-rekognition,aws-rekognition", "more than once"),
    ("x=opencv-hog,x=aws-rekognition", "more than once"),
])
def test_malformed_lists_are_refused_with_what_is_wrong(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_detectors(text)


def test_the_original_detector_keeps_the_original_table_and_checkpoint():
    assert label_table_name("labels", "aws-rekognition") == "labels"
    assert checkpoint_key_name("status/cp", "aws-rekognition") == "status/cp"


def test_every_other_detector_gets_its_own_table_and_checkpoint():
    assert label_table_name("labels", "ssd-mobilenet-v2-coco") == "labels.ssd-mobilenet-v2-coco"
    assert label_table_name("labels", "stand-in") == "labels.stand-in"
    assert checkpoint_key_name("status/cp", "opencv-hog") == "status/cp.opencv-hog"


def test_a_table_name_over_dynamodbs_bound_is_refused():
    with pytest.raises(ValueError, match="DynamoDB takes 255"):
        label_table_name("t" * 200, "d" * 64)
