"""Every Cypher statement of the graph-writer, in the subset Neo4j 5 and ArcadeDB share.

Values always travel as parameters, never inside the text. A batch is one transaction of
a few statements (shared nodes first, then images and their links, then label edges):
measured faster than one statement holding every MERGE (see docs/benchmarks.md).
"""

SCHEMA = (
    "CREATE CONSTRAINT camera_name IF NOT EXISTS "
    "FOR (n:Camera) REQUIRE n.camera_name IS UNIQUE",
    "CREATE CONSTRAINT image_object_key IF NOT EXISTS "
    "FOR (n:Image) REQUIRE n.object_key IS UNIQUE",
    "CREATE CONSTRAINT label_name IF NOT EXISTS FOR (n:Label) REQUIRE n.label_name IS UNIQUE",
    "CREATE CONSTRAINT iso_date IF NOT EXISTS FOR (n:ISODate) REQUIRE n.iso_date IS UNIQUE",
    "CREATE CONSTRAINT year_value IF NOT EXISTS FOR (n:Year) REQUIRE n.year_value IS UNIQUE",
    "CREATE CONSTRAINT month_value IF NOT EXISTS FOR (n:Month) REQUIRE n.month_value IS UNIQUE",
    "CREATE CONSTRAINT day_value IF NOT EXISTS FOR (n:Day) REQUIRE n.day_value IS UNIQUE",
    "CREATE CONSTRAINT hour_value IF NOT EXISTS FOR (n:Hour) REQUIRE n.hour_value IS UNIQUE",
    "CREATE INDEX image_timestamp IF NOT EXISTS FOR (n:Image) ON (n.timestamp)",
    "CREATE CONSTRAINT tally_key IF NOT EXISTS FOR (n:Tally) REQUIRE n.tally_key IS UNIQUE",
    "CREATE CONSTRAINT tally_state IF NOT EXISTS "
    "FOR (n:TallyState) REQUIRE n.state_name IS UNIQUE",
)

# Parameter name of BatchPlan.shared -> the statement that makes those nodes exist.
SHARED_NODES = {
    "cameras": "UNWIND $cameras AS value MERGE (:Camera {camera_name: value})",
    # A new label counts its edges from the start (ADD_LABEL_EDGES adds the batch's).
    "labels": "UNWIND $labels AS value MERGE (label:Label {label_name: value}) "
              "ON CREATE SET label.edge_count = 0",
    "iso_dates": "UNWIND $iso_dates AS value MERGE (:ISODate {iso_date: value})",
    "years": "UNWIND $years AS value MERGE (:Year {year_value: value})",
    "months": "UNWIND $months AS value MERGE (:Month {month_value: value})",
    "days": "UNWIND $days AS value MERGE (:Day {day_value: value})",
    "hours": "UNWIND $hours AS value MERGE (:Hour {hour_value: value})",
}

# With its camera and label edges: the image's state before, which its tallies count.
HELD_IMAGES = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})
OPTIONAL MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
WITH image, camera
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
RETURN image.object_key AS object_key, image.isodate AS isodate,
       image.detectors AS detectors, image.detector_versions AS versions,
       image.tally_version AS tally_version, camera.camera_name AS camera,
       collect({label: label.label_name, detector: has_label.detector,
                confidence: has_label.confidence}) AS labels
"""

UPSERT_IMAGES = """
UNWIND $rows AS row
MERGE (image:Image {object_key: row.object_key})
SET image += row.props
"""

UNLINK_IMAGES = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})
OPTIONAL MATCH (image)-[time]->()
WHERE type(time) IN ['HAS_TIMESTAMP', 'HAS_YEAR', 'HAS_MONTH', 'HAS_DAY', 'HAS_HOUR']
OPTIONAL MATCH (:Camera)-[has_image:HAS_IMAGE]->(image)
DELETE time, has_image
"""

# Only for images with no such links yet (new, or just unlinked): CREATE cannot duplicate.
LINK_IMAGES = """
UNWIND $rows AS row
MATCH (image:Image {object_key: row.object_key})
MATCH (camera:Camera {camera_name: row.camera})
MATCH (iso:ISODate {iso_date: row.iso_date})
MATCH (year:Year {year_value: row.year})
MATCH (month:Month {month_value: row.month})
MATCH (day:Day {day_value: row.day})
MATCH (hour:Hour {hour_value: row.hour})
CREATE (camera)-[:HAS_IMAGE {timestamp: row.timestamp}]->(image)
CREATE (image)-[:HAS_TIMESTAMP]->(iso)
CREATE (image)-[:HAS_YEAR]->(year)
CREATE (image)-[:HAS_MONTH]->(month)
CREATE (image)-[:HAS_DAY]->(day)
CREATE (image)-[:HAS_HOUR]->(hour)
"""

# A newer labelling replaces the detector's whole label set: labels it dropped go too.
DROP_LABELLINGS = """
UNWIND $rows AS row
MATCH (image:Image {object_key: row.object_key})-[old:HAS_LABEL]->(:Label)
WHERE old.detector = row.detector
DELETE old
"""

CREATE_LABEL_EDGES = """
UNWIND $rows AS row
MATCH (image:Image {object_key: row.object_key})
MATCH (label:Label {label_name: row.label})
CREATE (image)-[has_label:HAS_LABEL]->(label)
SET has_label += row.props
"""

# Each label keeps the count of its HAS_LABEL edges (`edge_count`, which /labels reads),
# changed by the batch's net change of them (domain.plan_batch's label_counts). A label
# written before the counter has none, and keeps none (null + n is null) until
# FILL_LABEL_COUNTS gives it its degree. `edge_version` changes with every transaction that
# changes or counts a label's edges, before the count is read: Neo4j then holds the node's
# write lock, and ArcadeDB, which refuses the later of two commits only for records that
# changed, sees a conflict even where a counter not filled yet did not change.
ADD_LABEL_EDGES = """
UNWIND $rows AS row
MATCH (label:Label {label_name: row.label})
SET label.edge_version = coalesce(label.edge_version, 0) + 1
SET label.edge_count = label.edge_count + row.delta
"""
_COUNT_LABEL_EDGES = """
SET label.edge_version = coalesce(label.edge_version, 0) + 1
WITH label
SET label.edge_count = COUNT { (label)<-[:HAS_LABEL]-(:Image) }
RETURN count(label) AS counted
"""
# The upgrade of a graph written before the counter: up to $limit labels without it.
FILL_LABEL_COUNTS = """
MATCH (label:Label) WHERE label.edge_count IS NULL
WITH label LIMIT $limit
""" + _COUNT_LABEL_EDGES
# The repair of named labels' counters (`recount --repair`).
RECOUNT_LABELS = """
UNWIND $names AS name
MATCH (label:Label {label_name: name})
""" + _COUNT_LABEL_EDGES
# Each label's counter beside its degree, for the recount: the named ones, or all (null).
LABEL_COUNTS = """
MATCH (label:Label)
WHERE $names IS NULL OR label.label_name IN $names
RETURN label.label_name AS label, label.edge_count AS stored,
       COUNT { (label)<-[:HAS_LABEL]-(:Image) } AS degree
"""

# A batch's day tallies are read, changed in Python and written back in the batch's
# transaction (tallies.changed_values), one node per camera and day touched. The read
# first writes each node, so Neo4j holds its write lock before the counts are read and a
# concurrent writer or fold cannot slip a change in between (a lost update); ArcadeDB
# refuses the second of two concurrent commits instead. Property names are parameters,
# read with the dynamic `tally[name]` both engines answer. A day says whether it was just
# made (no `touched_at` yet: the writer registers it as unfolded), whether it was folded
# (the writer changes its shards too) and the UTC offsets it holds (tallies.OFFSETS).
READ_TALLIES = """
UNWIND $rows AS row
MERGE (tally:Tally {tally_key: row.key})
ON CREATE SET tally.level = row.level, tally.camera = row.camera, tally.period = row.period,
              tally.folded = false
SET tally.writing = true
RETURN row.key AS key, [name IN row.names | tally[name]] AS held, tally.folded AS folded,
       tally.touched_at IS NULL AS created, tally.utc_offsets AS offsets
"""
WRITE_TALLIES = """
UNWIND $rows AS row
MATCH (tally:Tally {tally_key: row.key})
SET tally += row.values, tally.touched_at = $touched_at
REMOVE tally.writing
"""
# A camera's registry of the days not folded yet, which readers add to the shards.
# The new dates are computed from the list in the SET itself: Neo4j takes the write lock
# before that read (a direct dependency).
REGISTER_UNFOLDED = """
UNWIND $rows AS row
MERGE (registry:Tally {tally_key: row.key})
ON CREATE SET registry.level = 'unfolded', registry.camera = row.camera, registry.dates = []
SET registry.dates = registry.dates + [date IN row.dates WHERE NOT date IN registry.dates]
"""
# The shards days are folded into (one camera, month or all time, and 1/64 of the
# properties), read and written as days are (WRITE_TALLIES).
READ_SHARDS = """
UNWIND $rows AS row
MERGE (tally:Tally {tally_key: row.key})
ON CREATE SET tally.level = row.level, tally.camera = row.camera, tally.period = row.period,
              tally.shard = row.shard
SET tally.writing = true
RETURN row.key AS key, [name IN row.names | tally[name]] AS held
"""

# Which days to fold: the cameras' registries of unfolded days, then those days' nodes
# not written since $settled_before (epoch seconds). Keys are computed in Python (the key
# is JSON of hostile names), so nothing scans the Tally nodes, which grow by hundreds a
# month. Run by the writer's fold task every GRAPH_WRITER_TALLY_FOLD_SECONDS.
CAMERA_NAMES = "MATCH (camera:Camera) RETURN camera.camera_name AS camera"
UNFOLDED_DATES = """
UNWIND $keys AS key
MATCH (registry:Tally {tally_key: key})
RETURN registry.camera AS camera, registry.dates AS dates
"""
SETTLED_DAYS = """
UNWIND $keys AS key
MATCH (day:Tally {tally_key: key})
WHERE day.folded = false AND day.touched_at < $settled_before
RETURN day.tally_key AS key
"""
# The fold of some settled days of one camera, in one transaction: the days are claimed
# (write-locked on Neo4j) before they are read, their counts summed per shard are added to
# their shards (READ_SHARDS, WRITE_TALLIES: each shard written once, however many of its
# days fold together), then they are marked folded and leave the camera's registry.
CLAIM_DAYS = """
UNWIND $keys AS key
MATCH (day:Tally {tally_key: key})
SET day.writing = true
RETURN day.tally_key AS key, day.folded AS folded, properties(day) AS props
"""
MARK_FOLDED = """
UNWIND $keys AS key
MATCH (day:Tally {tally_key: key})
SET day.folded = true
REMOVE day.writing
"""
LEAVE_REGISTRY = """
MATCH (registry:Tally {tally_key: $registry})
SET registry.dates = [date IN registry.dates WHERE NOT date IN $dates]
"""

# Every tally of one camera (or every camera: null), whole, for the recount.
TALLIES = """
MATCH (tally:Tally)
WHERE $camera IS NULL OR tally.camera = $camera
RETURN tally.tally_key AS key, properties(tally) AS props
"""

# The images (with what their tallies depend on) of some local dates, or of every date;
# grouped by the image's key, which alone tells two images of one camera and time apart.
_IMAGE_FACTS = """
MATCH (image)<-[:HAS_IMAGE]-(camera:Camera)
WHERE $camera IS NULL OR camera.camera_name = $camera
WITH image, camera
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
RETURN image.object_key AS object_key, camera.camera_name AS camera,
       image.isodate AS isodate, image.detectors AS detectors,
       collect({label: label.label_name, detector: has_label.detector,
                confidence: has_label.confidence}) AS labels
"""
IMAGE_FACTS_ON_DATES = """
MATCH (iso:ISODate) WHERE iso.iso_date IN $dates
MATCH (iso)<-[:HAS_TIMESTAMP]-(image:Image)
""" + _IMAGE_FACTS
IMAGE_FACTS = "MATCH (image:Image)\n" + _IMAGE_FACTS
IMAGE_FACTS_OF_KEYS = """
UNWIND $keys AS key
MATCH (image:Image {object_key: key})
""" + _IMAGE_FACTS

# Sets tallies to what a recount found (`recount --repair`): every property replaced.
SET_TALLIES = """
UNWIND $rows AS row
MERGE (tally:Tally {tally_key: row.key})
SET tally = row.props
"""

# The upgrade of a graph written before tallies (handlers.fill_tallies): whether its
# tallies count every image (and every image's SEVERAL_DETECTORS count: `counts_several`,
# absent on a graph counted before it), what it holds, and the images not counted yet.
TALLY_STATE = """
MATCH (state:TallyState {state_name: 'tallies'})
RETURN state.complete AS complete, state.version AS version,
       state.counts_several AS counts_several
"""
MARK_TALLIES = """
MERGE (state:TallyState {state_name: 'tallies'})
SET state.complete = $complete, state.version = $version,
    state.counts_several = $counts_several
"""
ANY_IMAGE = "MATCH (image:Image) RETURN image.object_key AS object_key LIMIT 1"
IMAGE_DATES = "MATCH (iso:ISODate) RETURN iso.iso_date AS iso_date ORDER BY iso_date"
# Claims up to $limit images of a date not counted yet. The first SET takes each image's
# write lock on Neo4j before `counted` is read, so a writer that counted the image
# meanwhile is seen (ArcadeDB refuses the later of two conflicting commits instead).
CLAIM_UNCOUNTED = """
MATCH (iso:ISODate {iso_date: $date})<-[:HAS_TIMESTAMP]-(image:Image)
WHERE coalesce(image.tally_version, 0) <> $version
WITH image LIMIT $limit
SET image.tally_claim = true
WITH image, coalesce(image.tally_version, 0) <> $version AS uncounted
REMOVE image.tally_claim
SET image.tally_version = $version
RETURN image.object_key AS object_key, uncounted
"""

# One statement per node label of the model (labels cannot be parameters), in chunks.
WIPE = (
    "MATCH (n:Camera) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Image) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Label) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:ISODate) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Year) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Month) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Day) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Hour) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:Tally) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
    "MATCH (n:TallyState) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS deleted",
)

PING = "RETURN 1 AS ok"

# The Neo4j Connector for Kafka's sink (deploy/kafka-connect, generated by sink_recipe.py):
# one event at a time, bound as `event`, no Python in between. The same nodes, keys and
# properties as the statements above, but MERGE on everything and no version check: see
# deploy/kafka-connect/README.md for what it does not do. The capture time's parts are read
# from captured_at's text, whose form the contract fixes (YYYY-MM-DDTHH:...); times are stored
# as Python's isoformat writes them (+00:00 where JSON says Z), as the graph-writer stores them.
SINK_EVENT = """
WITH event, replace(event.captured_at, 'Z', '+00:00') AS captured_at,
     replace(event.labeled_at, 'Z', '+00:00') AS labeled_at
MERGE (camera:Camera {camera_name: event.camera})
MERGE (image:Image {object_key: event.object_key})
SET image.isodate = captured_at, image.timestamp = event.event_ts,
    image.bucket = event.bucket, image.labeled_at = labeled_at
MERGE (iso:ISODate {iso_date: event.capture_date})
MERGE (year:Year {year_value: toInteger(substring(event.captured_at, 0, 4))})
MERGE (month:Month {month_value: toInteger(substring(event.captured_at, 5, 2))})
MERGE (day:Day {day_value: toInteger(substring(event.captured_at, 8, 2))})
MERGE (hour:Hour {hour_value: toInteger(substring(event.captured_at, 11, 2))})
MERGE (camera)-[:HAS_IMAGE {timestamp: event.event_ts}]->(image)
MERGE (image)-[:HAS_TIMESTAMP]->(iso)
MERGE (image)-[:HAS_YEAR]->(year)
MERGE (image)-[:HAS_MONTH]->(month)
MERGE (image)-[:HAS_DAY]->(day)
MERGE (image)-[:HAS_HOUR]->(hour)
WITH image, event, labeled_at
UNWIND event.labels AS detected
MERGE (label:Label {label_name: detected.name})
MERGE (image)-[has_label:HAS_LABEL {detector: event.detector}]->(label)
SET has_label.confidence = detected.confidence, has_label.model_version = event.model_version,
    has_label.event_id = event.event_id, has_label.labeled_at = labeled_at
"""
