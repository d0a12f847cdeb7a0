"""Every Cypher statement of the api, in the portable Neo4j 5 / ArcadeDB subset.

Values always travel as parameters; a null parameter means "no filter". The only writes
are reviewers' verdicts, projected from the verdict table onto Review nodes (one per image
and label) so the detector's HAS_LABEL stays as written. A Review finds its image by object
key, never by an edge: the graph-writer's rebuild recreates images and keeps every Review.
"""

SCHEMA = (
    "CREATE CONSTRAINT review_key IF NOT EXISTS FOR (n:Review) REQUIRE n.review_key IS UNIQUE",
    "CREATE INDEX review_object_key IF NOT EXISTS FOR (n:Review) ON (n.object_key)",
)

CAMERAS = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)
RETURN camera.camera_name AS camera, count(image) AS images,
       min(image.timestamp) AS first_ts, max(image.timestamp) AS last_ts
ORDER BY camera
"""

LABELS = """
MATCH (label:Label)
WHERE $prefix IS NULL OR toLower(label.label_name) STARTS WITH toLower($prefix)
MATCH (image:Image)-[:HAS_LABEL]->(label)
WITH label.label_name AS label, count(DISTINCT image) AS images
RETURN label, images
ORDER BY images DESC, label
SKIP $offset LIMIT $limit
"""

# Images of one camera scope and time window: the start of most questions.
_SCOPE = """
WHERE ($cameras IS NULL OR camera.camera_name IN $cameras)
  AND ($since IS NULL OR image.timestamp >= $since)
  AND ($until IS NULL OR image.timestamp < $until)
"""

# One label's confidence on each image in scope (max over detectors, or the one asked for).
_LABELLED = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)-[has_label:HAS_LABEL]->
      (:Label {label_name: $label})
""" + _SCOPE + """
  AND ($detector IS NULL OR has_label.detector = $detector)
WITH camera, image, max(has_label.confidence) AS confidence
"""

SIGHTINGS = _LABELLED + """
WHERE confidence >= $min_confidence
RETURN camera.camera_name AS camera, count(image) AS images,
       min(image.timestamp) AS first_ts, max(image.timestamp) AS last_ts
ORDER BY images DESC, camera
"""

CONFIDENCE_HISTOGRAM = _LABELLED + """
WITH CASE WHEN $width IS NULL THEN round(confidence)
          ELSE floor(confidence / $width) * $width END AS bucket
RETURN bucket, count(*) AS images
ORDER BY bucket
"""

# Newest first; the cursor is the (timestamp, object_key) of the last item already seen.
_PAGE = """
  AND ($hour IS NULL OR EXISTS { MATCH (image)-[:HAS_HOUR]->(:Hour {hour_value: $hour}) })
  AND ($after_ts IS NULL OR image.timestamp < $after_ts
       OR (image.timestamp = $after_ts AND image.object_key < $after_key))
WITH DISTINCT camera, image
ORDER BY image.timestamp DESC, image.object_key DESC
LIMIT $limit
"""


def _item(carry: str = "") -> str:
    """The tail that returns one image with its labels (carry: more variables to keep)."""
    return """
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WITH camera, image""" + carry + """,
     collect({name: label.label_name, confidence: has_label.confidence,
              detector: has_label.detector, model_version: has_label.model_version}) AS labels
RETURN image.object_key AS object_key, camera.camera_name AS camera,
       image.isodate AS captured_at, image.timestamp AS timestamp, image.bucket AS bucket,
       image.detectors AS detectors,
       image.labeled_at AS labeled_at, labels
"""


IMAGES = "MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)" + _SCOPE + _PAGE + _item() + """
ORDER BY timestamp DESC, object_key DESC
"""

# Every asked label must be on the image within the confidence range. Starting from the
# first label's node and checking the others per image measured faster than counting
# matches over every label edge in scope (docs/benchmarks.md).
IMAGES_WITH_LABELS = """
MATCH (:Label {label_name: $first})<-[first_edge:HAS_LABEL]-(image:Image)
      <-[:HAS_IMAGE]-(camera:Camera)
""" + _SCOPE + """
  AND first_edge.confidence >= $min_confidence AND first_edge.confidence <= $max_confidence
  AND all(name IN $labels WHERE EXISTS {
        MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
        WHERE label.label_name = name
          AND has_label.confidence >= $min_confidence
          AND has_label.confidence <= $max_confidence })
""" + _PAGE + _item() + """
ORDER BY timestamp DESC, object_key DESC
"""

# The image is its own first clause: its unique key is the anchor on both engines.
IMAGE = """
MATCH (image:Image {object_key: $object_key})
MATCH (camera:Camera)-[:HAS_IMAGE]->(image)
OPTIONAL MATCH (review:Review {object_key: $object_key})
WITH camera, image, collect({label: review.label_name, present: review.present,
                             reviewer: review.reviewer, reviewed_at: review.reviewed_at}) AS reviews
""" + _item(", reviews") + """, reviews
"""

ROLLUP = "MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)" + _SCOPE + """
  AND ($label IS NULL OR EXISTS {
        MATCH (image)-[has_label:HAS_LABEL]->(:Label {label_name: $label})
        WHERE has_label.confidence >= $min_confidence })
MATCH (image)-[:HAS_YEAR]->(year:Year), (image)-[:HAS_MONTH]->(month:Month),
      (image)-[:HAS_DAY]->(day:Day), (image)-[:HAS_HOUR]->(hour:Hour)
RETURN camera.camera_name AS camera, year.year_value AS year, month.month_value AS month,
       day.day_value AS day, hour.hour_value AS hour, count(image) AS images
"""

IMAGE_EXISTS = """
MATCH (image:Image {object_key: $object_key})
RETURN image.object_key AS object_key
"""

# The newest verdict wins, in the graph as in the table, whatever order projections arrive in.
PROJECT_VERDICTS = """
UNWIND $verdicts AS verdict
MERGE (review:Review {review_key: verdict.review_key})
WITH review, verdict
WHERE review.reviewed_at IS NULL OR review.reviewed_at <= verdict.reviewed_at
SET review.object_key = verdict.object_key, review.label_name = verdict.label,
    review.present = verdict.present, review.reviewer = verdict.reviewer,
    review.reviewed_at = verdict.reviewed_at
"""

GRAPH_VERDICTS = """
MATCH (review:Review)
RETURN review.object_key AS object_key, review.label_name AS label, review.present AS present,
       review.reviewer AS reviewer, review.reviewed_at AS reviewed_at
"""

# Each reviewed image in scope: the reviewer's truth and the detector's confidence (or null).
REVIEWED = """
MATCH (review:Review {label_name: $label})
MATCH (image:Image {object_key: review.object_key})
MATCH (camera:Camera)-[:HAS_IMAGE]->(image)
""" + _SCOPE + """
  AND ($detector IS NULL OR $detector IN coalesce(image.detectors, []))
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(:Label {label_name: $label})
WHERE $detector IS NULL OR has_label.detector = $detector
RETURN image.object_key AS object_key, review.present AS present,
       max(has_label.confidence) AS confidence
"""

# Unreviewed images, those without the label (score -1) first, then the least confident.
REVIEW_QUEUE = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)
""" + _SCOPE + """
  AND NOT EXISTS { MATCH (review:Review {object_key: image.object_key, label_name: $label}) }
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(:Label {label_name: $label})
WITH camera, image, coalesce(max(has_label.confidence), -1.0) AS score
WHERE $after_score IS NULL OR score > $after_score
      OR (score = $after_score AND (image.timestamp < $after_ts
          OR (image.timestamp = $after_ts AND image.object_key < $after_key)))
WITH camera, image, score
ORDER BY score, image.timestamp DESC, image.object_key DESC
LIMIT $limit
""" + _item(", score") + """, score
ORDER BY score, timestamp DESC, object_key DESC
"""
