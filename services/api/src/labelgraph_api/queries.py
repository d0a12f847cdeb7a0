"""Every Cypher statement of the api (read only), in the portable Neo4j 5 / ArcadeDB subset."""

CAMERAS = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image)
RETURN camera.camera_name AS camera, count(image) AS images,
       min(image.timestamp) AS first_ts, max(image.timestamp) AS last_ts
ORDER BY camera
"""

IMAGE = """
MATCH (camera:Camera)-[:HAS_IMAGE]->(image:Image {object_key: $object_key})
OPTIONAL MATCH (image)-[has_label:HAS_LABEL]->(label:Label)
RETURN image.object_key AS object_key, camera.camera_name AS camera,
       image.isodate AS captured_at, image.timestamp AS timestamp,
       collect({name: label.label_name, confidence: has_label.confidence,
                detector: has_label.detector}) AS labels
"""
