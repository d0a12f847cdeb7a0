"""Request and response bodies of the api (they become the OpenAPI document)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
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
    sampled: StrictBool = Field(False, description="Given in the review queue's random-sample "
                                "mode: the image counts in the unbiased recall estimate "
                                "(and keeps counting when judged again in another mode).")


class Verdict(BaseModel):
    """A recorded verdict."""

    label: str = Field(description="Label judged.")
    present: bool = Field(description="Whether the label is truly in the image.")
    reviewer: str = Field(description="Who judged it.")
    reviewed_at: datetime = Field(description="When it was last judged (UTC).")
    sampled: bool = Field(False, description="Whether the image was judged in the "
                          "random-sample review.")


BULK_VERDICTS_MAX = 50


class BulkVerdictsIn(BaseModel):
    """One reviewer's verdict on one label of several images ("all of these are wind")."""

    model_config = ConfigDict(strict=True, extra="forbid")

    object_keys: list[ObjectKey] = Field(
        min_length=1, max_length=BULK_VERDICTS_MAX,
        description=f"S3 object keys of the images judged, 1-{BULK_VERDICTS_MAX} (the body "
                    "stays within 16 KiB as every body).")
    label: Name = Field("Person", description=f"Label judged: 1-{NAME_MAX_CHARS} characters, "
                        "no control characters.")
    present: StrictBool = Field(description="Whether the label is truly in every image.")
    reviewer: Name = Field(description="Who judged them.")


class KeyedVerdict(Verdict):
    """A recorded verdict with the image it judges."""

    object_key: str = Field(description="S3 object key.")


class BulkVerdicts(BaseModel):
    """The verdicts recorded, one per known image, and the keys of no image."""

    recorded: list[KeyedVerdict] = Field(description="Each verdict in force after recording.")
    unknown_object_keys: list[str] = Field(description="Keys the graph has no image for: "
                                           "nothing was recorded for them.")


class UndoIn(BaseModel):
    """Which verdict to undo: the one in force on an image and label, by its time."""

    model_config = ConfigDict(extra="forbid")

    object_key: ObjectKey = Field(description="S3 object key.")
    label: Name = Field("Person", description="Label judged, as the verdict names it.")
    reviewed_at: AwareDatetime = Field(description="reviewed_at of the verdict to undo, as "
                                       "PUT /verdicts answered it.")
    reviewer: Name = Field(description="Who undoes it.")


class Undone(BaseModel):
    """An undone verdict and the one in force after it."""

    undone: Verdict = Field(description="The verdict undone (kept in the history).")
    in_force: Verdict | None = Field(description="The previous verdict, in force again; null: "
                                     "the image is unjudged for the label again.")


class VerdictGiven(Verdict):
    """One verdict of an image's history; an undone one says when and by whom."""

    undone_at: datetime | None = Field(description="When it was undone; null if it was not.")
    undone_by: str | None = Field(description="Who undid it.")


class ImageDetail(ImageItem):
    """An image with its labels and the reviewers' verdicts."""

    reviews: list[Verdict] = Field(description="Verdicts in force, one per label judged.")
    history: list[VerdictGiven] = Field(description="Every verdict given on the image, newest "
                                        "first, undone ones included (from the verdict table).")


class Proportion(BaseModel):
    """A rate with the verdicts it rests on and its 95% Wilson score interval."""

    successes: int = Field(description="Verdicts counted in (recall: found; precision: right).")
    count: int = Field(description="Verdicts it is out of (recall: TP + FN; precision: TP + FP).")
    value: float | None = Field(description="successes / count; null when count is 0.")
    low: float | None = Field(description="Lower end of the 95% Wilson interval.")
    high: float | None = Field(description="Upper end of the 95% Wilson interval.")
    enough: bool = Field(description="Whether count reaches 5, the fewest verdicts a figure "
                                     "is shown from; below it say 'too few to tell'.")


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
    recall_interval: Proportion = Field(description="Recall with its count and interval.")
    precision_interval: Proportion = Field(description="Precision with its count and interval.")
    calibrated: float | None = Field(None, description="Probability of the label at this "
                                     "threshold by the detector's calibration; null without "
                                     "one (too few verdicts) or where none is given.")


class Calibration(BaseModel):
    """Score -> probability of the label, a logistic fit on reviewers' verdicts."""

    verdicts: int = Field(description="Verdicts fitted on (a score of no label counts as 0).")
    present: int = Field(description="Of those, the label truly present.")
    absent: int = Field(description="Of those, the label truly absent.")
    enough: bool = Field(description="Whether there is a fit: at least 20 verdicts, 5 of each "
                         "truth, and scores rising with the truth. Without one the raw "
                         "score / 100 stands in for the probability.")
    score_at_half: float | None = Field(description="Raw score where the probability is 0.5.")
    intercept: float | None = Field(description="a of p = 1/(1+exp(-(a + b z))), "
                                    "z = (score - score_mean) / score_spread.")
    slope: float | None = Field(description="b of the same.")
    score_mean: float
    score_spread: float


class RecallEstimate(BaseModel):
    """Recall at the threshold from one set of verdicts, labelled with how far to trust it."""

    source: Literal["sample", "all"] = Field(description="sample: the random-sample "
                                             "verdicts alone; all: every verdict.")
    note: str = Field(examples=["from the random sample: unbiased"])
    verdicts: int = Field(description="Verdicts of this source in scope.")
    recall: Proportion


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
    calibration: Calibration = Field(description="The detector's calibration (the highest "
                                     "score of any detector when none is named).")
    recall_estimates: list[RecallEstimate] = Field(description="Recall from the random "
                                                   "sample (unbiased), then from all reviews.")
    per_camera: list[CameraAccuracy] = Field(
        description="Each camera with reviewed images in scope, by name, and its counts.")


class TargetRecall(BaseModel):
    """The highest threshold at which a detector still finds the target share of the label."""

    target: float = Field(description="Recall asked for, percent.", examples=[95])
    reached: bool = Field(description="Whether any threshold reaches it.")
    threshold: float | None = Field(description="Highest threshold reaching it; null if none.")
    at_threshold: ConfusionCounts | None = Field(description="Counts there (its precision).")
    best_recall: float | None = Field(description="Recall at threshold 0: the most it finds.")


class CameraCalibration(Calibration):
    """One camera's own calibration of a detector."""

    camera: str
    own_fit: bool = Field(description="Whether the camera has enough verdicts for its own "
                          "fit; if not, its threshold comes from the detector's.")
    threshold_for_calibrated: float | None = Field(description="Raw threshold reaching the "
                                                   "asked calibrated probability.")


class DetectorCalibration(Calibration):
    """A detector's calibration over every camera in scope, and each camera's."""

    threshold_for_calibrated: float | None = Field(description="Raw threshold reaching the "
                                                   "asked `calibrated` probability: from the "
                                                   "fit, or 100 x it without one.")
    per_camera: list[CameraCalibration]


class DetectorAccuracy(BaseModel):
    """One detector on the compared images."""

    detector: str = Field(description="Detector name.", examples=["ssd-mobilenet-v2-coco"])
    threshold: float = Field(description="Its threshold: the default or its override.")
    labelled: int = Field(description="Reviewed images in scope this detector labelled.")
    calibration: DetectorCalibration = Field(description="Its calibration on every reviewed "
                                             "image in scope it labelled, and per camera.")
    at_threshold: ConfusionCounts = Field(description="Counts at its threshold.")
    target_recall: TargetRecall | None = Field(description="Null when no target was asked.")
    curve: list[ConfusionCounts] = Field(description="Counts at every threshold step.")


class SilentDetector(BaseModel):
    """A detector that gave no label at all to any reviewed image in scope it labelled."""

    detector: str = Field(description="Detector name.", examples=["rekognition-stand-in"])
    images: int = Field(description="Reviewed images in scope it labelled, all with nothing.")


class DetectorComparison(Window, LabelsMatched):
    """Detectors side by side on the same reviewed images: those every one of them labelled."""

    label: str = Field(description="Label judged.")
    cameras: list[str] | None = Field(description="Cameras covered; null for all.")
    threshold: float = Field(description="Default threshold of every detector.")
    calibrated: float | None = Field(description="Calibrated probability every detector is "
                                     "judged at (its own raw threshold for it); null: raw "
                                     "thresholds.")
    reviewed: int = Field(description="Reviewed images in scope, whoever labelled them.")
    compared: int = Field(description="Of those, the images every compared detector labelled: "
                          "each detector's counts are over these.")
    detectors: list[DetectorAccuracy] = Field(description="Per detector, by name.")
    silent_detectors: list[SilentDetector] = Field(
        description="Detectors left out: they labelled reviewed images in scope but gave "
                    "none of them any label (a stand-in without rules for them).")


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
    reason: Literal["disagreement", "unlabelled", "least confident", "random sample"] = Field(
        description="Why it is here: detectors disagree at their thresholds, no detector "
                    "gave the label, the label's confidence is low, or (mode=sample) drawn "
                    "at random.")


class ReviewQueue(LabelsMatched):
    """Unreviewed images: disagreements first, then those without the label, then the least
    confident."""

    label: str = Field(description="Label to judge.")
    mode: Literal["priority", "sample"] = Field(description="priority: disagreements first; "
                                                "sample: uniformly at random in scope.")
    seed: int = Field(description="The sample's seed (mode=sample): the same seed, the same "
                      "order.")
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


class Slice(BaseModel):
    """A detector's counts on one slice of the reviewed images; only its keys are present."""

    camera: str | None = None
    hour: int | None = Field(None, description="Camera-local hour of capture, 0-23.")
    period: Literal["day", "night"] | None = Field(None, description="By the night hours.")
    model_version: str | None = Field(None, description="Detector version ('unknown' where "
                                      "it left no label to read it off).")
    reviewed: int = Field(description="Reviewed images of the slice the detector labelled.")
    at_threshold: ConfusionCounts = Field(description="Counts at its threshold.")


class DetectorBreakdown(BaseModel):
    """One detector's accuracy sliced by where and when."""

    detector: str = Field(description="Detector name.")
    threshold: float = Field(description="Its threshold: the default or its override.")
    labelled: int = Field(description="Reviewed images in scope it labelled.")
    by_camera: list[Slice]
    by_hour: list[Slice] = Field(description="By camera-local hour of day, all cameras.")
    by_period: list[Slice] = Field(description="Per camera, day and night by `night`.")
    by_camera_hour: list[Slice] = Field(description="The camera x hour grid.")
    by_version: list[Slice] = Field(description="Per model version: an upgrade is its own row.")


class NightHours(BaseModel):
    start: int = Field(description="First night hour (camera-local), inclusive.")
    end: int = Field(description="First day hour, exclusive end of the night.")


class Nights(BaseModel):
    default: NightHours = Field(description="Night hours of every camera not named.")
    cameras: dict[str, NightHours] = Field(description="Per-camera night hours.")


class AccuracyBreakdown(Window, LabelsMatched):
    """Where and when each detector misses: its accuracy per camera, hour, day or night and
    model version, against reviewers."""

    label: str = Field(description="Label judged.")
    cameras: list[str] | None = Field(description="Cameras covered; null for all.")
    threshold: float = Field(description="Default threshold of every detector.")
    reviewed: int = Field(description="Reviewed images in scope.")
    night: Nights = Field(description="The night hours used for `by_period`.")
    detectors: list[DetectorBreakdown] = Field(description="Per detector, by name.")
    silent_detectors: list[SilentDetector] = Field(
        description="Detectors left out: no label at all on any reviewed image in scope.")


class TargetCost(BaseModel):
    reached: bool = Field(description="Whether any threshold reaches the target recall.")
    threshold: float | None = Field(description="Highest threshold reaching it.")
    best_recall: float | None = Field(description="Recall at threshold 0; null: no verdicts.")
    alarms_per_day: float | None = Field(description="Images a day at or above it.")


class ThresholdCost(BaseModel):
    """A detector on some cameras at its threshold, and at the target recall's threshold."""

    reviewed: int = Field(description="Reviewed images it labelled there.")
    at_threshold: ConfusionCounts = Field(description="Counts at its threshold.")
    alarms_per_day: float = Field(description="Images a day at or above its threshold, "
                                  "reviewed or not, over the window.")
    target: TargetCost = Field(description="The threshold for the target recall.")


class CameraCost(ThresholdCost):
    camera: str


class CostPoint(BaseModel):
    threshold: float
    recall: float | None
    precision: float | None
    alarms_per_day: float = Field(description="All cameras in scope.")


class DetectorCost(BaseModel):
    detector: str
    threshold: float = Field(description="Its threshold: the default or its override.")
    all_cameras: ThresholdCost
    per_camera: list[CameraCost] = Field(description="Cameras with verdicts or alarms.")
    curve: list[CostPoint] = Field(description="Alarms a day against recall, per threshold.")


class ThresholdCosts(Window, LabelsMatched):
    """What a threshold costs: recall, precision and alarms a day per detector and camera."""

    label: str
    cameras: list[str] | None
    threshold: float
    target_recall: float = Field(description="Recall (percent) the target thresholds reach.")
    days: float = Field(description="Days the alarms are counted over: the window, or the "
                        "captures' span where it is open (at least one).")
    reviewed: int
    detectors: list[DetectorCost]
    silent_detectors: list[SilentDetector]
