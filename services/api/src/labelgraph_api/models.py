"""Request and response bodies of the api (they become the OpenAPI document)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from labelgraph_contract.bounds import NAME_MAX_CHARS, Name, ObjectKey

log = logging.getLogger("labelgraph_api")


def _stored_time(value: Any, handler: ValidatorFunctionWrapHandler) -> datetime | None:
    # A time read from the graph that no datetime holds is answered as null, never a 500.
    try:
        parsed: datetime | None = handler(value)
    except ValidationError:
        log.warning("stored time %r is outside the datetime range: answered as null", value)
        return None
    return parsed


StoredTime = Annotated[datetime | None, WrapValidator(_stored_time)]


class CameraSummary(BaseModel):
    """A camera with how many images it took and over which span."""

    camera: str = Field(description="Camera name.", examples=["frontdoor"])
    images: int = Field(description="Number of images.", examples=[1234])
    first_at: StoredTime = Field(description="Capture time of its first image (UTC).")
    last_at: StoredTime = Field(description="Capture time of its latest image (UTC).")


class LabelCount(BaseModel):
    """A label and how many images carry it."""

    label: str = Field(description="Label name.", examples=["Person"])
    images: int = Field(description="Images with this label.", examples=[420])


class LabelPage(BaseModel):
    """One page of labels, most frequent first."""

    items: list[LabelCount]
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class LabelsMatched(BaseModel):
    """Which asked labels the graph has no Label for."""

    unknown_labels: list[str] = Field(
        description="Asked labels no image carries (no Label of that name in any case): "
                    "misspelt, or never given by a detector; see /labels for the names.")


class Window(BaseModel):
    """The time window a question covered (since inclusive, until exclusive)."""

    since: datetime | None = Field(description="Start of the window, or null for none.")
    until: datetime | None = Field(description="End of the window, or null for none.")


class CameraSightings(BaseModel):
    """How often one camera saw the label in the window."""

    camera: str = Field(description="Camera name.")
    images: int = Field(description="Matching images.")
    first_at: StoredTime = Field(description="First matching capture (UTC); null if out of "
                                 "the representable range.")
    last_at: StoredTime = Field(description="Latest matching capture (UTC); null if out of "
                                "the representable range.")
    last_captured_at: StoredTime = Field(description="Latest matching capture as the camera "
                                         "stamped it, with its offset; null if unknown.")


class Sightings(Window, LabelsMatched):
    """Where a label was seen: matching images grouped by camera (the heat map)."""

    label: str = Field(description="Label asked for.")
    min_confidence: float = Field(description="Lowest confidence counted.")
    images: int = Field(description="Matching images over all cameras.")
    cameras: list[CameraSightings] = Field(description="Per camera, most images first.")


class HistogramBucket(BaseModel):
    """Images whose label confidence falls in one bucket."""

    confidence: float = Field(description="The bucket's lower bound: it holds confidences "
                              "from it up to, not including, it plus the width.")
    images: int = Field(description="Images in the bucket.")


class ConfidenceHistogram(Window, LabelsMatched):
    """Images per confidence bucket of one label, and how many are at or above a threshold."""

    label: str = Field(description="Label asked for.")
    bucket_width: float | None = Field(description="Bucket width; null means 1.")
    images: int = Field(description="Images with the label in scope.")
    threshold: float = Field(description="Confidence asked for.", examples=[90])
    at_or_above: int = Field(description="Images with the label at or above the threshold, "
                             "counted from their confidences, not from the buckets.")
    without_label: int = Field(description="Images in scope without the label at any "
                               "confidence (with a detector: that it labelled).")
    buckets: list[HistogramBucket] = Field(description="Non-empty buckets, lowest first.")


class Box(BaseModel):
    """Where one instance of a label is: ratios of the image's width and height, as
    Rekognition gives them (left and top from the image's top-left corner)."""

    left: float = Field(ge=0, le=1, description="Left edge / image width.", examples=[0.4])
    top: float = Field(ge=0, le=1, description="Top edge / image height.", examples=[0.3])
    width: float = Field(ge=0, le=1, description="Box width / image width.", examples=[0.21])
    height: float = Field(ge=0, le=1, description="Box height / image height.",
                          examples=[0.5])
    confidence: float = Field(ge=0, le=100, description="Detector confidence for this "
                              "instance, 0-100.", examples=[98.7])


class ImageLabel(BaseModel):
    """One label on an image."""

    name: str = Field(description="Label name.", examples=["Person"])
    confidence: float = Field(description="Detector confidence, 0-100.", examples=[99.2])
    detector: str | None = Field(description="Detector that reported it.")
    model_version: str | None = Field(None, description="Detector's model version.")
    boxes: list[Box] = Field(default_factory=list, description="The instances this detector "
                             "located, at most 100; empty when it located none.")


class DetectorLabels(BaseModel):
    """What one detector that labelled an image found on it."""

    detector: str = Field(description="Detector name.", examples=["opencv-hog"])
    labels: list[str] = Field(description="Names of the labels it gave, most confident "
                              "first; empty when it looked and found nothing.")


class ImageItem(BaseModel):
    """An image with its labels and a link to its bytes."""

    object_key: str = Field(description="S3 object key.")
    camera: str = Field(description="Camera that took it.")
    captured_at: StoredTime = Field(description="Capture time with the camera's offset; null "
                                    "if what is stored is no valid time.")
    timestamp: int = Field(description="Capture time, epoch seconds.")
    bucket: str | None = Field(description="S3 bucket.")
    detectors: list[str] = Field(description="Detectors that labelled it.")
    labeled_at: StoredTime = Field(description="When it was labelled.")
    labels: list[ImageLabel] = Field(description="Labels, most confident first.")
    by_detector: list[DetectorLabels] = Field(description=(
        "Every detector that labelled it, by name (with a detector filter, that one), with "
        "the labels it gave: a detector that found nothing is listed with none."))
    url: str = Field(description="Presigned, time-limited GET URL of the image in S3.")


class ImagePage(LabelsMatched):
    """One page of images, newest first."""

    items: list[ImageItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


class VerdictIn(BaseModel):
    """A reviewer's verdict on whether a label is truly on an image."""

    # A person's words go to the system of record: no "yes" read as true, no field dropped
    # unread, and names bounded as every other name (they reach logs, terminals and pages).
    model_config = ConfigDict(strict=True, extra="forbid")

    object_key: ObjectKey = Field(description="S3 object key (at most 1,024 bytes of UTF-8, "
                                  "no control characters).")
    label: Name = Field("Person", description=f"Label judged: 1-{NAME_MAX_CHARS} characters, "
                        "no control characters.")
    present: StrictBool = Field(description="Whether the label is truly in the image: true "
                                "or false.")
    reviewer: Name = Field(description=f"Who judged it: 1-{NAME_MAX_CHARS} characters, no "
                           "control characters.")


class Verdict(BaseModel):
    """A recorded verdict."""

    label: str = Field(description="Label judged.")
    present: bool = Field(description="Whether the label is truly in the image.")
    reviewer: str = Field(description="Who judged it.")
    reviewed_at: datetime = Field(description="When it was last judged (UTC).")


class ImageDetail(ImageItem):
    """An image with its labels and the reviewers' verdicts."""

    reviews: list[Verdict] = Field(description="Verdicts, one per label judged.")


class ConfusionCounts(BaseModel):
    """Detector against reviewers at one confidence threshold."""

    threshold: float = Field(description="Detector flags the label at this confidence or more.")
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None = Field(description="TP / (TP + FP); null without flags.")
    recall: float | None = Field(description="TP / (TP + FN); null without true presences.")
    false_negative_rate: float | None = Field(description="FN / (TP + FN).")


class CameraAccuracy(BaseModel):
    """The detector against reviewers on one camera's reviewed images."""

    camera: str = Field(description="Camera name.")
    reviewed: int = Field(description="Reviewed images of this camera in scope.")
    at_threshold: ConfusionCounts = Field(description="Counts at the asked threshold.")


class Accuracy(Window, LabelsMatched):
    """How accurate the detector is on reviewed images."""

    label: str = Field(description="Label judged.")
    cameras: list[str] | None = Field(description="Cameras covered; null for all.")
    detector: str | None = Field(description="Detector judged; null for any.")
    reviewed: int = Field(description="Reviewed images in scope.")
    at_threshold: ConfusionCounts = Field(description="Counts at the asked threshold.")
    curve: list[ConfusionCounts] = Field(description="Counts at every threshold step.")
    per_camera: list[CameraAccuracy] = Field(
        description="Each camera with reviewed images in scope, by name, and its counts.")


class TargetRecall(BaseModel):
    """The highest threshold at which a detector still finds the target share of the label."""

    target: float = Field(description="Recall asked for, percent.", examples=[95])
    reached: bool = Field(description="Whether any threshold reaches it.")
    threshold: float | None = Field(description="Highest threshold reaching it; null if none.")
    at_threshold: ConfusionCounts | None = Field(description="Counts there (its precision).")
    best_recall: float | None = Field(description="Recall at threshold 0: the most it finds.")


class DetectorAccuracy(BaseModel):
    """One detector on the compared images."""

    detector: str = Field(description="Detector name.", examples=["ssd-mobilenet-v2-coco"])
    threshold: float = Field(description="Its threshold: the default or its override.")
    labelled: int = Field(description="Reviewed images in scope this detector labelled.")
    at_threshold: ConfusionCounts = Field(description="Counts at its threshold.")
    target_recall: TargetRecall | None = Field(description="Null when no target was asked.")
    curve: list[ConfusionCounts] = Field(description="Counts at every threshold step.")


class DetectorComparison(Window, LabelsMatched):
    """Detectors side by side on the same reviewed images: those every one of them labelled."""

    label: str = Field(description="Label judged.")
    cameras: list[str] | None = Field(description="Cameras covered; null for all.")
    threshold: float = Field(description="Default threshold of every detector.")
    reviewed: int = Field(description="Reviewed images in scope, whoever labelled them.")
    compared: int = Field(description="Of those, the images every compared detector labelled: "
                          "each detector's counts are over these.")
    detectors: list[DetectorAccuracy] = Field(description="Per detector, by name.")


class DetectorSeen(BaseModel):
    """A detector and how many of the scanned images it labelled."""

    detector: str = Field(description="Detector name.", examples=["aws-rekognition"])
    images: int = Field(description="Scanned images it labelled.")


class DetectorList(BaseModel):
    """Detectors seen on the newest images of the window (a bounded scan)."""

    detectors: list[DetectorSeen] = Field(description="By name.")
    images_scanned: int = Field(description="Images whose detectors were read.")
    complete: bool = Field(description="Whether every image of the window was scanned.")


class QueueItem(ImageItem):
    """An unreviewed image and the confidence the detector gave the label (null: absent)."""

    label_confidence: float | None = Field(description="Highest confidence of the label.")
    reason: Literal["disagreement", "unlabelled", "least confident"] = Field(
        description="Why it is here: detectors disagree at their thresholds, no detector "
                    "gave the label, or the label's confidence is low.")


class ReviewQueue(LabelsMatched):
    """Unreviewed images: disagreements first, then those without the label, then the least
    confident."""

    label: str = Field(description="Label to judge.")
    threshold: float = Field(description="Default threshold deciding disagreements.")
    thresholds: dict[str, float] = Field(description="Per-detector threshold overrides.")
    items: list[QueueItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


class ReviewedItem(ImageItem):
    """An image judged for the label, with the verdict it holds now."""

    label_confidence: float | None = Field(description="Highest confidence of the label.")
    present: bool = Field(description="The current verdict: whether the label is truly there.")


class ReviewedPage(LabelsMatched):
    """Images judged for the label, newest first: what a reviewer goes back over."""

    label: str = Field(description="Label judged.")
    items: list[ReviewedItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


class RollupRow(BaseModel):
    """Images in one bucket; only the fields of the asked keys are present."""

    camera: str | None = None
    year: int | None = Field(None, description="Year (keys year and month).")
    month: int | None = Field(None, description="Month of `year` (key month).")
    date: str | None = Field(None, description="Date, YYYY-MM-DD (keys day and hour).")
    hour: int | None = Field(None, description="Hour of `date` (key hour).")
    month_of_year: int | None = Field(None, description="Month in any year (key "
                                      "month_of_year).")
    day_of_month: int | None = Field(None, description="Day in any month (key day_of_month).")
    hour_of_day: int | None = Field(None, description="Hour on any day (key hour_of_day).")
    images: int


class Rollup(LabelsMatched):
    """Image counts grouped by the asked keys, in camera-local time."""

    by: list[str] = Field(description="Keys grouped by, in the order asked.")
    rows: list[RollupRow]
