"""Every Cypher statement of the api, in the portable Neo4j 5 / ArcadeDB subset.

Values always travel as parameters; a null parameter means "no filter". The only writes
are reviewers' verdicts, projected from the verdict table onto Review nodes (one per image
and label) so the detector's HAS_LABEL stays as written. A Review finds its image by object
key, never by an edge: the graph-writer's rebuild recreates images and keeps every Review.
"""

SCHEMA = (
    "CREATE CONSTRAINT review_key IF NOT EXISTS FOR (n:Review) REQUIRE n.review_key IS UNIQUE",
    "CREATE INDEX review_object_key IF NOT EXISTS FOR (n:Review) ON (n.object_key)",
    # The accuracy questions start from one label's verdicts: without it, from every
    # label's (60,000 verdicts, 1,200 of the label: 21.6 ms to find them, 7.5 with it).
    "CREATE INDEX review_label IF NOT EXISTS FOR (n:Review) ON (n.label_name)",
)

# --- the anchors ---------------------------------------------------------------------
# ArcadeDB anchors a pattern on its first node and uses no range index, so a windowed
# question starts at the time tree: the ISODate nodes (unique keys) of the camera-local
# dates the window may touch, decided in Python (windows.py), then their images filtered
# by timestamp; labels are WHERE filters and the camera comes last. Bounds are always
# concrete numbers, never a null-means-no-filter trick on the anchor.
_FROM_DATES = """
MATCH (iso:ISODate) WHERE iso.iso_date IN $dates
MATCH (iso)<-[:HAS_TIMESTAMP]-(image:Image)
WHERE image.timestamp >= $since AND image.timestamp < $until
"""

# The ends of a long window the tallies do not answer: whole dates, and single local
# hours of one camera (the capture time's "YYYY-MM-DDTHH", as the tallies file it, then
# the camera's name: tallies.camera_hour) on dates whose other hours the day tallies
# answer. The hours of any camera filter first, so only their images meet their camera.
_FROM_EDGES = _FROM_DATES + """
  AND (iso.iso_date IN $whole_dates OR substring(image.isodate, 0, 13) IN $hours)
MATCH (image)<-[:HAS_IMAGE]-(filed_by:Camera)
WHERE (iso.iso_date IN $whole_dates
       OR substring(image.isodate, 0, 13) + filed_by.camera_name IN $camera_hours)
"""

# Over a long window, one label's edges are the smaller set to start from.
_FROM_LABEL = """
MATCH (label:Label) WHERE label.label_name = $label
MATCH (label)<-[has_label:HAS_LABEL]-(image:Image)
WHERE image.timestamp >= $since AND image.timestamp < $until
"""

_CAMERA = """
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
WHERE $cameras IS NULL OR camera.camera_name IN $cameras
"""

# One label's confidence on each image in scope (max over detectors, or the one asked for).
# Matched by name, not against the label node found first: ArcadeDB then expands the
# label's edges instead of the window's images, measured in bench/api_bench.py.
_LABEL_OF_IMAGE = """
MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label AND ($detector IS NULL OR has_label.detector = $detector)
"""
_DETECTOR = """
WITH image, has_label WHERE $detector IS NULL OR has_label.detector = $detector
"""
_CONFIDENCE = """
WITH camera, image, max(has_label.confidence) AS confidence
"""

# Statements that read a row per date, verdict or image in scope return one row holding
# them all: on ArcadeDB each row costs about 15 microseconds, so a year's dates as a list
# cost a fifth of what their rows did (835 dates, 3 ms against 15 ms at a million images),
# and /accuracy's verdicts half (2,158 verdicts, 110 ms against 211 ms).
DATES = """
MATCH (iso:ISODate)
RETURN collect(iso.iso_date) AS collected
"""

# Counts are degree counts, which neither engine answers by walking the edges (measured:
# 2 ms for nine cameras at 20,000 images); each image has one HAS_IMAGE. A label's count is
# its HAS_LABEL edges: one per image and detector, so images while one detector labels each.
CAMERA_IMAGES = """
MATCH (camera:Camera)
RETURN camera.camera_name AS camera, COUNT { (camera)-[:HAS_IMAGE]->(:Image) } AS images
ORDER BY camera
"""

# Every named camera, without counting its images (the tallies count them).
CAMERAS = """
MATCH (camera:Camera) WHERE camera.camera_name IS NOT NULL
RETURN camera.camera_name AS camera
"""

# Each camera's first and last capture among some dates (the caller walks from each end).
CAMERA_SPANS_ON_DATES = """
MATCH (iso:ISODate) WHERE iso.iso_date IN $dates
MATCH (iso)<-[:HAS_TIMESTAMP]-(image:Image)
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
RETURN camera.camera_name AS camera, min(image.timestamp) AS first_ts,
       max(image.timestamp) AS last_ts
"""

# Which asked cameras exist (unique-key lookups), and some names to show when one does not.
CAMERAS_NAMED = """
UNWIND $cameras AS name
MATCH (camera:Camera) WHERE camera.camera_name = name
RETURN camera.camera_name AS camera
"""
CAMERA_NAMES = """
MATCH (camera:Camera) WHERE camera.camera_name IS NOT NULL
RETURN camera.camera_name AS camera
ORDER BY camera
LIMIT $limit
"""

# A label's edge count is kept on it by the graph-writer (`edge_count`); one written
# before that (a graph mid-upgrade) is counted by degree (coalesce evaluates it only then).
LABELS = """
MATCH (label:Label)
WHERE $prefix IS NULL OR toLower(label.label_name) STARTS WITH toLower($prefix)
WITH label, coalesce(label.edge_count, COUNT { (label)<-[:HAS_LABEL]-(:Image) }) AS images
WHERE images > 0
RETURN label.label_name AS label, images
ORDER BY images DESC, label
SKIP $offset LIMIT $limit
"""

# How many label edges each asked label has: the rarest is the cheapest anchor.
LABEL_EDGES = """
UNWIND $labels AS name
MATCH (label:Label) WHERE label.label_name = name
RETURN name AS label, COUNT { (label)<-[:HAS_LABEL]-() } AS edges
"""

_SIGHTINGS = """
WHERE confidence >= $min_confidence
RETURN camera.camera_name AS camera, count(image) AS images,
       min(image.timestamp) AS first_ts, max(image.timestamp) AS last_ts
ORDER BY images DESC, camera
"""
SIGHTINGS_ON_DATES = (_FROM_DATES + _LABEL_OF_IMAGE + _CAMERA + _CONFIDENCE
                      + _SIGHTINGS)
SIGHTINGS_OF_LABEL = _FROM_LABEL + _DETECTOR + _CAMERA + _CONFIDENCE + _SIGHTINGS
SIGHTINGS_ON_EDGES = _FROM_EDGES + _LABEL_OF_IMAGE + _CAMERA + _CONFIDENCE + _SIGHTINGS

# A bucket is [bound, bound + width), width 1 when omitted: floored, never rounded, so a
# bar never holds an image below the threshold its bound names. The count at or above the
# threshold is read off each confidence in the same pass (the handler sums the buckets'),
# since no bucket of another width can say it.
_HISTOGRAM = """
WITH confidence, CASE WHEN $width IS NULL THEN floor(confidence)
                      ELSE floor(confidence / $width) * $width END AS bucket
RETURN bucket, count(*) AS images,
       sum(CASE WHEN confidence >= $threshold THEN 1 ELSE 0 END) AS at_or_above
ORDER BY bucket
"""
HISTOGRAM_ON_DATES = (_FROM_DATES + _LABEL_OF_IMAGE + _CAMERA + _CONFIDENCE
                      + _HISTOGRAM)
HISTOGRAM_OF_LABEL = _FROM_LABEL + _DETECTOR + _CAMERA + _CONFIDENCE + _HISTOGRAM
HISTOGRAM_ON_EDGES = _FROM_EDGES + _LABEL_OF_IMAGE + _CAMERA + _CONFIDENCE + _HISTOGRAM


def _item(carry: str = "") -> str:
    """The tail that returns one image with its labels (carry: more variables to keep).

    A label's boxes are the JSON text the graph-writer stored (graph.py parses them)."""
    return """
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE $detector IS NULL OR has_label.detector = $detector
WITH camera, image""" + carry + """,
     collect({name: label.label_name, confidence: has_label.confidence,
              detector: has_label.detector, model_version: has_label.model_version,
              boxes: has_label.boxes}) AS labels
RETURN image.object_key AS object_key, camera.camera_name AS camera,
       image.isodate AS captured_at, image.timestamp AS timestamp, image.bucket AS bucket,
       image.detectors AS detectors,
       image.labeled_at AS labeled_at, labels
"""


# Newest first after the cursor, the (timestamp, object_key) of the last item seen (the
# first page passes a cursor past every image). The hour is read off the camera-local
# capture time, "YYYY-MM-DDTHH...", the same hour the HAS_HOUR link holds.
_AFTER_CURSOR = """
  AND (image.timestamp < $after_ts
       OR (image.timestamp = $after_ts AND image.object_key < $after_key))
  AND ($hour IS NULL OR toInteger(substring(image.isodate, 11, 2)) = $hour)
"""
_NEWEST = """
WITH camera, image
ORDER BY image.timestamp DESC, image.object_key DESC
LIMIT $limit
"""
_LABELS_IN_RANGE = """
  AND ($detector IS NULL OR $detector IN coalesce(image.detectors, []))
  AND all(name IN $labels WHERE EXISTS {
        MATCH (image)-[asked_edge:HAS_LABEL]->(asked:Label)
        WHERE asked.label_name = name
          AND ($detector IS NULL OR asked_edge.detector = $detector)
          AND asked_edge.confidence >= $min_confidence
          AND asked_edge.confidence <= $max_confidence })
"""
_BY_TIME = """
ORDER BY timestamp DESC, object_key DESC
"""

# A page of the images of some dates (the caller walks the dates back from the cursor),
# or of some of their hours on one camera each (the newest that the day tallies say hold
# the page: newest_hours.py), as the ends of a long window are read.
_IMAGES_PAGE = _AFTER_CURSOR + _LABELS_IN_RANGE + _CAMERA + _NEWEST + _item() + _BY_TIME
IMAGES_ON_DATES = _FROM_DATES + _IMAGES_PAGE
IMAGES_ON_HOURS = _FROM_EDGES + _IMAGES_PAGE

# A page of the images of one (rare) label over the whole window; the other asked labels
# are checked per image. $label is the anchor, and one of $labels.
IMAGES_OF_LABEL = (_FROM_LABEL + _AFTER_CURSOR + _LABELS_IN_RANGE + _CAMERA
                   + "WITH DISTINCT camera, image" + _NEWEST + _item() + _BY_TIME)

# Image counts per asked time part (camera-local, read off the capture time) and camera;
# a part not asked for is null, so Cypher groups by exactly what was asked (domain.py
# makes the buckets: a month with its year, a day as its date).
_ROLLUP = """
  AND ($detector IS NULL OR $detector IN coalesce(image.detectors, []))
  AND ($label IS NULL OR EXISTS {
        MATCH (image)-[asked_edge:HAS_LABEL]->(asked:Label)
        WHERE asked.label_name = $label AND asked_edge.confidence >= $min_confidence
          AND ($detector IS NULL OR asked_edge.detector = $detector) })
""" + _CAMERA + """
RETURN CASE WHEN 'camera' IN $parts THEN camera.camera_name END AS camera,
       CASE WHEN 'year' IN $parts THEN toInteger(substring(image.isodate, 0, 4)) END AS year,
       CASE WHEN 'month' IN $parts THEN toInteger(substring(image.isodate, 5, 2)) END AS month,
       CASE WHEN 'day' IN $parts THEN toInteger(substring(image.isodate, 8, 2)) END AS day,
       CASE WHEN 'hour' IN $parts THEN toInteger(substring(image.isodate, 11, 2)) END AS hour,
       count(image) AS images
"""
ROLLUP_ON_DATES = _FROM_DATES + _ROLLUP
ROLLUP_ON_EDGES = _FROM_EDGES + _ROLLUP

# The images in scope (with $detector: the images it labelled): what a label's histogram
# is out of. It reads the window's images, not their labels.
_IMAGE_COUNT = """
  AND ($detector IS NULL OR $detector IN coalesce(image.detectors, []))
""" + _CAMERA + """
RETURN count(image) AS images
"""
IMAGE_COUNT_ON_DATES = _FROM_DATES + _IMAGE_COUNT
IMAGE_COUNT_ON_EDGES = _FROM_EDGES + _IMAGE_COUNT

# The capture time, as the camera stamped it, of given images found by camera and epoch
# second: the heat map's latest capture per camera. $dates are the local dates those
# seconds can fall on.
CAPTURES_ON_DATES = """
MATCH (iso:ISODate) WHERE iso.iso_date IN $dates
MATCH (iso)<-[:HAS_TIMESTAMP]-(image:Image)
WHERE image.timestamp IN $timestamps
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
WHERE camera.camera_name IN $cameras
RETURN camera.camera_name AS camera, image.timestamp AS timestamp,
       image.isodate AS captured_at
"""

# A label's name as the graph spells it, for a name asked in any case: the labels are a
# few hundred nodes, and an exact match (the unique key) is tried first.
LABEL_NAMED = """
MATCH (label:Label) WHERE label.label_name = $label
RETURN label.label_name AS label
"""
LABEL_NAMED_ANY_CASE = """
MATCH (label:Label) WHERE toLower(label.label_name) = toLower($label)
RETURN label.label_name AS label
ORDER BY label
LIMIT 1
"""

# The image is its own first clause: its unique key is the anchor on both engines.
IMAGE = """
MATCH (image:Image {object_key: $object_key})
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
OPTIONAL MATCH (review:Review {object_key: $object_key})
WITH camera, image, collect({label: review.label_name, present: review.present,
                             reviewer: review.reviewer, reviewed_at: review.reviewed_at,
                             sampled: coalesce(review.sampled, false)}) AS reviews
""" + _item(", reviews") + """, reviews
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
    review.reviewed_at = verdict.reviewed_at, review.sampled = verdict.sampled
"""

# An undone verdict leaves the graph only while the graph still shows it, so a verdict given
# after the undo and projected before it is never overwritten; a retried undo changes nothing.
# The previous verdict in force takes its place, or the Review goes when none is left.
RESTORE_PREVIOUS_VERDICTS = """
UNWIND $withdrawn AS withdrawn
MATCH (review:Review {review_key: withdrawn.review_key})
WHERE review.reviewed_at = withdrawn.withdrawn_at
SET review.present = withdrawn.present, review.reviewer = withdrawn.reviewer,
    review.reviewed_at = withdrawn.reviewed_at, review.sampled = withdrawn.sampled
"""
DROP_WITHDRAWN_VERDICTS = """
UNWIND $withdrawn AS withdrawn
MATCH (review:Review {review_key: withdrawn.review_key})
WHERE review.reviewed_at = withdrawn.withdrawn_at
DETACH DELETE review
"""

# Which of some object keys are images of the graph (unique-key lookups): a bulk verdict.
IMAGES_EXISTING = """
UNWIND $object_keys AS key
MATCH (image:Image {object_key: key})
RETURN image.object_key AS object_key
"""

_VERDICT_OF_REVIEW = """
RETURN review.object_key AS object_key, review.label_name AS label, review.present AS present,
       review.reviewer AS reviewer, review.reviewed_at AS reviewed_at,
       coalesce(review.sampled, false) AS sampled
"""

# The verdicts the graph holds, a page at a time in key order (the start-up reads them all).
GRAPH_VERDICTS = """
MATCH (review:Review) WHERE review.review_key > $after
WITH review ORDER BY review.review_key LIMIT $limit
""" + _VERDICT_OF_REVIEW

# The Reviews of some images and labels (unique-key lookups): one page of the verdict table.
REVIEWS_OF = """
UNWIND $review_keys AS key
MATCH (review:Review {review_key: key})
""" + _VERDICT_OF_REVIEW

# Whether the image's verdict on the label came from the random sample: a later verdict
# in another mode keeps it there (the sample drew the image, whoever judges it after).
REVIEW_SAMPLED = """
MATCH (review:Review {review_key: $review_key})
RETURN coalesce(review.sampled, false) AS sampled
"""

# Each reviewed image in scope: the reviewer's truth and the detector's confidence (or
# null). It starts at the label's verdicts and finds each image by its unique key.
REVIEWED = """
MATCH (review:Review) WHERE review.label_name = $label
MATCH (image:Image {object_key: review.object_key})
WHERE image.timestamp >= $since AND image.timestamp < $until
  AND ($detector IS NULL OR $detector IN coalesce(image.detectors, []))
""" + _CAMERA + """
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label AND ($detector IS NULL OR has_label.detector = $detector)
WITH camera, image, review, max(has_label.confidence) AS confidence
RETURN collect({object_key: image.object_key, camera: camera.camera_name,
                present: review.present, sampled: coalesce(review.sampled, false),
                confidence: confidence}) AS collected
"""

# A page of the images judged for the label in scope, newest first, with the verdict they
# hold now: what a reviewer goes back over. Anchored on the label's Review nodes, as REVIEWED.
REVIEWED_IMAGES = """
MATCH (review:Review) WHERE review.label_name = $label
MATCH (image:Image {object_key: review.object_key})
WHERE image.timestamp >= $since AND image.timestamp < $until
""" + _AFTER_CURSOR + _CAMERA + """
WITH camera, image, review
ORDER BY image.timestamp DESC, image.object_key DESC
LIMIT $limit
""" + _item(", review") + """, review.present AS present
""" + _BY_TIME

# Each reviewed image in scope for a training export: the verdict, where the image is, and
# each detector's boxes of the label (JSON text, checked in Python).
REVIEWED_FOR_EXPORT = """
MATCH (review:Review) WHERE review.label_name = $label
MATCH (image:Image {object_key: review.object_key})
WHERE image.timestamp >= $since AND image.timestamp < $until
""" + _CAMERA + """
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label AND ($detector IS NULL OR has_label.detector = $detector)
WITH camera, image, review,
     collect({detector: has_label.detector, confidence: has_label.confidence,
              boxes: has_label.boxes}) AS labels
RETURN collect({object_key: image.object_key, bucket: image.bucket,
                camera: camera.camera_name, present: review.present,
                reviewer: review.reviewer, reviewed_at: review.reviewed_at,
                labels: labels}) AS collected
"""

# Each reviewed image in scope with who labelled it and every label edge it has: each
# detector's confidence of the label (null on its other edges), its model version, and
# whether it gave the image any label at all (a stand-in without rules gives none). The
# side-by-side comparison picks the images every compared detector labelled.
REVIEWED_BY_DETECTOR = """
MATCH (review:Review) WHERE review.label_name = $label
MATCH (image:Image {object_key: review.object_key})
WHERE image.timestamp >= $since AND image.timestamp < $until
""" + _CAMERA + """
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WITH camera, image, review,
     collect({detector: has_label.detector, model_version: has_label.model_version,
              confidence: CASE WHEN label.label_name = $label
                               THEN has_label.confidence END}) AS labels
RETURN collect({object_key: image.object_key, present: review.present,
                camera: camera.camera_name, captured_at: image.isodate,
                detectors: coalesce(image.detectors, []), labels: labels}) AS collected
"""

# Images at or above each threshold per camera and detector (the alarms a person would
# look at), with the first and last capture among them: each image counted once per
# detector, at its highest confidence of the label.
_ALARMS = _CAMERA + """
WITH camera, image, has_label.detector AS detector, max(has_label.confidence) AS confidence
UNWIND $thresholds AS bar
WITH camera, image, detector, bar, confidence WHERE confidence >= bar
RETURN camera.camera_name AS camera, detector, bar AS threshold, count(image) AS alarms,
       min(image.timestamp) AS first_ts, max(image.timestamp) AS last_ts
"""
ALARMS_ON_DATES = _FROM_DATES + """
MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label
""" + _ALARMS
ALARMS_OF_LABEL = _FROM_LABEL + _ALARMS

# The detectors of at most $limit images of some dates (the caller walks them newest first).
DETECTORS_ON_DATES = _FROM_DATES + """
WITH image LIMIT $limit
RETURN coalesce(image.detectors, []) AS detectors, count(*) AS images
"""

# The review queue in three phases. First the unreviewed images where detectors disagree
# (one flags the label at its threshold, another labelled the image without flagging it),
# newest first: a verdict there teaches the most (over a long window, only the dates
# where the tallies count an image two detectors labelled; without those counts, the
# label's edges). Then those without the label, newest first (misses hide there); both a
# page of some dates at a time. Then the labelled ones, least confident first. The cursor
# is (score, timestamp, object_key), the score -2 in phase one and -1 in phase two.
# $thresholds maps a detector to its own threshold.
_UNREVIEWED = """
  AND NOT EXISTS { MATCH (review:Review {object_key: image.object_key, label_name: $label}) }
"""
_FLAGGING = """
WITH camera, image, has_label,
     coalesce($thresholds[has_label.detector], $threshold) AS bar
WITH camera, image, max(has_label.confidence) AS score,
     collect(CASE WHEN has_label.confidence >= bar THEN has_label.detector END) AS flagging
"""
_DISAGREE = "size(flagging) > 0 AND size(flagging) < size(coalesce(image.detectors, []))"
_SEVERAL_DETECTORS = """
  AND size(coalesce(image.detectors, [])) > 1
"""
_DISAGREEING = _CAMERA + _FLAGGING + "WHERE " + _DISAGREE + """
WITH camera, image
ORDER BY image.timestamp DESC, image.object_key DESC
LIMIT $limit
""" + _item() + _BY_TIME
DISAGREEING_ON_DATES = (_FROM_DATES + _AFTER_CURSOR + _UNREVIEWED + _SEVERAL_DETECTORS + """
MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
WHERE label.label_name = $label
""" + _DISAGREEING)
DISAGREEING_OF_LABEL = (_FROM_LABEL + _AFTER_CURSOR + _UNREVIEWED + _SEVERAL_DETECTORS
                        + _DISAGREEING)
_UNLABELLED = _AFTER_CURSOR + _UNREVIEWED + """
  AND NOT EXISTS { MATCH (image)-[asked_edge:HAS_LABEL]->(asked:Label)
                   WHERE asked.label_name = $label }
""" + _CAMERA + _NEWEST + _item() + _BY_TIME
UNLABELLED_ON_DATES = _FROM_DATES + _UNLABELLED
UNLABELLED_ON_HOURS = _FROM_EDGES + _UNLABELLED

_LEAST_CONFIDENT = _CAMERA + _FLAGGING + "WHERE NOT (" + _DISAGREE + """)
  AND (score > $after_score
   OR (score = $after_score AND (image.timestamp < $after_ts
       OR (image.timestamp = $after_ts AND image.object_key < $after_key))))
WITH camera, image, score
ORDER BY score, image.timestamp DESC, image.object_key DESC
LIMIT $limit
""" + _item(", score") + """, score
ORDER BY score, timestamp DESC, object_key DESC
"""
LABELLED_ON_DATES = _FROM_DATES + _UNREVIEWED + _LABEL_OF_IMAGE + _LEAST_CONFIDENT
LABELLED_OF_LABEL = _FROM_LABEL + _UNREVIEWED + _DETECTOR + _LEAST_CONFIDENT

# One property of the graph-writer's day tallies of the given keys (tallies.py computes
# both; the property is a view's image counts or a label's cells, null where it counts
# none) and the UTC offsets of their captures (tallies.sharpen): unique-key lookups, so a
# question reads cameras x periods nodes, whatever the graph holds.
TALLY_CELLS = """
UNWIND $keys AS key
MATCH (tally:Tally {tally_key: key})
RETURN tally.camera AS camera, tally.period AS period, tally[$property] AS cells,
       tally.utc_offsets AS offsets
"""

# The shards holding one property (one camera, month or all time, and 1/64 of the
# properties) and the cameras' registries of days not folded yet, in one statement:
# unique-key lookups of small nodes, a row each.
TALLY_THIN = """
UNWIND $keys AS key
MATCH (tally:Tally {tally_key: key})
RETURN tally.level AS level, tally.camera AS camera, tally.period AS period,
       tally[$property] AS cells, tally.dates AS dates
"""

# Whether the tallies count every image: the graph-writer marks it once it has counted a
# graph written before them; until then (no marker, or another version) reads use images.
# `counts_several`: whether they count every image two detectors labelled too.
TALLY_STATE = """
MATCH (state:TallyState {state_name: 'tallies'})
RETURN state.complete AS complete, state.version AS version,
       state.counts_several AS counts_several
"""

# The random-sample review: the object keys of every image in scope the sample has not
# judged yet for the label (the caller orders them by a seeded hash, so the sample never
# depends on what detectors said), then a page of them by their unique keys.
SAMPLE_KEYS_ON_DATES = _FROM_DATES + """
  AND NOT EXISTS { MATCH (review:Review {object_key: image.object_key, label_name: $label})
                   WHERE review.sampled = true }
""" + _CAMERA + """
WITH image LIMIT $limit
RETURN collect(image.object_key) AS collected
"""
IMAGES_BY_KEYS = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
""" + _item()
