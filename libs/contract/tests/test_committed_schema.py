from pathlib import Path

from labelgraph_contract.schema import rendered

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_committed_schema_files_match_the_model():
    # Fails when the model changes without `make schemas` (or a hand edit of the files).
    for name, text in rendered().items():
        committed = (SCHEMAS / name).read_text()
        assert committed == text, f"schemas/{name} drifted from the model: run `make schemas`"


def test_asyncapi_names_the_topic_and_resolves_its_references():
    import json

    document = json.loads((SCHEMAS / "image-labels.asyncapi.json").read_text())
    assert document["channels"]["imageLabels"]["address"] == "image-labels"
    schemas = document["components"]["schemas"]
    text = json.dumps(document)
    for name in ("ImageLabeled", "DetectedLabel", "LabelInstance", "BoundingBox"):
        assert name in schemas
    assert "#/$defs/" not in text
