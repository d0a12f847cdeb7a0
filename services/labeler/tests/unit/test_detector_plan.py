"""Which detectors a labeler runs, planned from LABELER_DETECTORS before any model loads
(how one image goes through several: test_label_image.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from labelgraph_labeler.bootstrap import UnknownDetectorKind, planned_detectors
from labelgraph_labeler.config import LabelerSettings

KEY = "alarms/frontdoor/2016-11-05/07/img_20161105-071530.jpg"


def test_the_default_is_the_original_detector_alone():
    [(entry, _)] = planned_detectors(LabelerSettings())
    assert (entry.name, entry.kind) == ("aws-rekognition", "aws-rekognition")


def test_an_unknown_kind_is_refused_naming_the_kinds_there_are():
    settings = LabelerSettings(LABELER_DETECTORS="aws-rekognition,yolo")
    with pytest.raises(UnknownDetectorKind, match="'yolo'; the kinds are aws-rekognition, "
                       "opencv-hog, ssd-mobilenet-v2-coco"):
        planned_detectors(settings)


def test_names_are_checked_with_the_settings():
    with pytest.raises(ValidationError, match="more than once"):
        LabelerSettings(LABELER_DETECTORS="opencv-hog,opencv-hog")


def test_kinds_resolve_without_loading_any_model():
    # Planning a local model imports nothing of it: only building it does.
    plan = planned_detectors(LabelerSettings(LABELER_DETECTORS="a=opencv-hog,b=aws-rekognition"))
    assert [(entry.name, entry.kind) for entry, _ in plan] == [("a", "opencv-hog"),
                                                               ("b", "aws-rekognition")]
