"""Every Cypher statement of the graph-writer, in the subset Neo4j 5 and ArcadeDB share.

Values always travel as parameters, never inside the text.
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
)

WRITE_IMAGES = """
UNWIND $images AS row
MERGE (camera:Camera {camera_name: row.camera})
MERGE (image:Image {object_key: row.object_key})
SET image.isodate = row.isodate, image.timestamp = row.timestamp, image.bucket = row.bucket,
    image.event_id = row.event_id, image.labeled_at = row.labeled_at,
    image.detector = row.detector, image.model_version = row.model_version
MERGE (camera)-[has_image:HAS_IMAGE]->(image)
SET has_image.timestamp = row.timestamp
MERGE (iso:ISODate {iso_date: row.iso_date})
MERGE (image)-[:HAS_TIMESTAMP]->(iso)
MERGE (year:Year {year_value: row.year})
MERGE (image)-[:HAS_YEAR]->(year)
MERGE (month:Month {month_value: row.month})
MERGE (image)-[:HAS_MONTH]->(month)
MERGE (day:Day {day_value: row.day})
MERGE (image)-[:HAS_DAY]->(day)
MERGE (hour:Hour {hour_value: row.hour})
MERGE (image)-[:HAS_HOUR]->(hour)
WITH image, row
UNWIND row.labels AS item
MERGE (label:Label {label_name: item.name})
MERGE (image)-[has_label:HAS_LABEL {detector: row.detector}]->(label)
SET has_label.confidence = item.confidence
"""
