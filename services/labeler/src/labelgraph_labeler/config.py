"""Labeler settings, all from the environment; defaults work on the embedded stack."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from labelgraph_contract import LABEL_TOPIC, DetectorEntry, parse_detectors
from labelgraph_contract.naming import DEFAULT_DETECTORS
from labelgraph_kafka import KafkaSettings

DEFAULT_KEY_PATTERN = (
    r"^(?P<root>[^/]+)/(?P<camera>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<hour>\d{2})/"
    r"(?:.*/)?(?P<name>[^/]+)_(?P<stamp>\d{8}-\d{6})\.(?i:jpe?g|png)$"
)

# Cameras send at most a few tens of megapixels (an 8K frame is 33 MP); a 40 MP image is
# 120 MB once decoded to 8-bit BGR, and the labeler holds a few at once.
DEFAULT_MAX_PIXELS = 40_000_000

# Beside the backfill's checkpoints: where an interrupted `reconcile --all` resumes.
RECONCILE_PROGRESS_KEY = "status/reconcile_progress"
# Beside it: the day the last finished reconcile at start began, where the next one begins.
RECONCILE_MARK_KEY = "status/reconcile_at_start"


class LabelerSettings(KafkaSettings):
    """Everything the labeler reads from its environment (the KAFKA_* connection settings
    are labelgraph_kafka's, shared with the graph-writer and provision)."""

    # Tuning knobs carry a service prefix so one shared env file cannot mix them up.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    image_bucket: str = Field("security-alarms", description="Bucket the cameras upload to.")
    image_queue_name: str = Field(
        "security-alarms-uploads", description="SQS queue receiving the bucket's notifications."
    )
    label_table: str = Field("security_alarm_image_label_set",
                             description="DynamoDB table of label rows.")
    label_topic: str = Field(LABEL_TOPIC, description="Kafka topic the events go to.")
    aws_default_region: str = Field("us-east-1", description="AWS region of every client.")
    camera_timezone: str = Field("America/Los_Angeles",
                                 description="IANA zone of the cameras' clocks.")
    detectors: str = Field(
        DEFAULT_DETECTORS, alias="LABELER_DETECTORS",
        description="Comma-separated detectors, each `kind` or `name=kind`; the name is what "
        "events, rows, metrics and the graph call it.")
    max_labels: int = Field(10, ge=1, le=1000, alias="LABELER_MAX_LABELS",
                            description="Most labels a detector reports for one image "
                            "(MaxLabels), for every detector.")
    min_confidence: float = Field(0, ge=0, le=100, alias="LABELER_MIN_CONFIDENCE",
                                  description="Least confidence of a reported label "
                                  "(MinConfidence), for every detector.")
    key_pattern: str = Field(
        DEFAULT_KEY_PATTERN,
        alias="LABELER_KEY_PATTERN",
        description="Regex over object keys with named groups camera and, optionally, stamp "
        "(YYYYMMDD-HHMMSS in the camera's time zone).",
    )
    excluded_cameras: str = Field("", alias="LABELER_EXCLUDED_CAMERAS",
                                  description="Comma-separated cameras never labelled.")
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS, ge=1, alias="LABELER_MAX_PIXELS",
        description="Most pixels (width x height, as the image's header states them) of an "
        "image the labeler takes; a larger one is refused as too_large before any detector "
        "runs. Pillow refuses above about 179 million whatever this says.")
    concurrency: int = Field(8, ge=1, le=256, alias="LABELER_CONCURRENCY",
                             description="Images handled at once.")
    poll_wait_seconds: int = Field(10, ge=0, le=20, alias="LABELER_POLL_WAIT_SECONDS",
                                   description="SQS long-poll wait.")

    ops_host: str = Field("127.0.0.1", alias="LABELER_OPS_HOST",
                          description="Address the ops server (health, ready, metrics) binds.")
    ops_port: int = Field(8081, ge=0, le=65535, alias="LABELER_OPS_PORT",
                          description="Port of the ops server.")
    rekognition_max_attempts: int = Field(
        6, ge=1, le=20, alias="LABELER_REKOGNITION_MAX_ATTEMPTS",
        description="DetectLabels calls per image before a transient error is given up on.")
    retry_base_seconds: float = Field(0.2, gt=0, alias="LABELER_RETRY_BASE_SECONDS",
                                      description="First backoff step (full jitter, doubling).")
    retry_max_seconds: float = Field(10, gt=0, alias="LABELER_RETRY_MAX_SECONDS",
                                     description="Longest single backoff.")
    publish_timeout_seconds: float = Field(30, gt=0, alias="LABELER_PUBLISH_TIMEOUT_SECONDS",
                                           description="How long a publish may wait for Kafka.")
    broker_check_seconds: float = Field(
        5, gt=0, le=60, alias="LABELER_BROKER_CHECK_SECONDS",
        description="How often the Kafka broker is checked while it answers (what /ready says, "
        "and whether uploads are taken), and how long one check may take.")
    log_level: str = Field("INFO", alias="LABELER_LOG_LEVEL",
                           description="Log level (JSON lines on stdout).")
    checkpoint_key: str = Field("status/label_to_graph_checkpoint",
                                alias="LABELER_CHECKPOINT_KEY",
                                description="Object in IMAGE_BUCKET holding the backfill's "
                                "checkpoint.")
    backfill_batch_size: int = Field(500, ge=1, alias="LABELER_BACKFILL_BATCH_SIZE",
                                     description="Images published between two checkpoints.")
    reconcile_days: int = Field(
        2, ge=0, alias="LABELER_RECONCILE_DAYS",
        description="Days on the cameras' clock (today included) that `run` reconciles once "
        "at start, in the background: images of those days with no row of a detector are "
        "labelled by that detector; 0 turns it off. A start after a longer stop reaches "
        "back further: to the day the last finished start's reconcile began.")
    reconcile_max_days: int = Field(
        31, ge=1, alias="LABELER_RECONCILE_MAX_DAYS",
        description="The furthest back (days on the cameras' clock, today included) the "
        "reconcile at start reaches to the day the last finished one began; older days are "
        "`reconcile --all`'s.")

    @field_validator("detectors")
    @classmethod
    def _detectors_parse(cls, text: str) -> str:
        parse_detectors(text)
        return text

    @property
    def detector_entries(self) -> tuple[DetectorEntry, ...]:
        return parse_detectors(self.detectors)

    @property
    def excluded_camera_set(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.excluded_cameras.split(",") if name.strip())
