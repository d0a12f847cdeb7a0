import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from labelgraph_contract import BoundingBox, DetectedLabel, ImageLabeled, LabelInstance
from labelgraph_devstack.testing import LABELED_AT, labelled_event
from labelgraph_graph_writer.domain import (
    OLDEST,
    ImageState,
    decode_version,
    encode_version,
    image_row,
    plan_batch,
    version,
)

CAPTURED = datetime(2016, 11, 30, 23, 30, 5, tzinfo=timezone(timedelta(hours=-8)))


def ids(name: str) -> str:
    """A UUID standing for `name`, ordered as the names are (for names of equal length)."""
    return f"00000000-0000-4000-8000-{name.encode().hex():0>12}"


def event(labels: dict[str, float], *, minutes: int = 0, key: str = "k", camera: str = "front",
          detector: str = "aws-rekognition", event_id: str = "e1") -> ImageLabeled:
    return labelled_event(key, labels, camera=camera, detector=detector, event_id=ids(event_id),
                          captured=CAPTURED, labeled_at=LABELED_AT + timedelta(minutes=minutes))


def test_time_tree_values_are_the_cameras_local_clock():
    row = image_row(event({"Person": 98.5}))
    assert (row["year"], row["month"], row["day"], row["hour"]) == (2016, 11, 30, 23)
    assert row["iso_date"] == "2016-11-30"
    assert row["props"]["isodate"] == "2016-11-30T23:30:05-08:00"
    assert row["props"]["timestamp"] == row["timestamp"] == int(CAPTURED.timestamp())


def test_a_new_image_is_created_and_linked_with_its_labels():
    plan = plan_batch([event({"Person": 98.5, "Plant": 70.0})], held={})
    assert [row["object_key"] for row in plan.images] == ["k"]
    assert [row["object_key"] for row in plan.link] == ["k"]
    assert (plan.unlink, plan.replace) == ([], [])
    assert [(row["label"], row["props"]["confidence"]) for row in plan.label_rows] == [
        ("Person", 98.5), ("Plant", 70.0)]
    assert plan.shared["labels"] == ["Person", "Plant"]
    assert plan.shared["cameras"] == ["front"]
    assert plan.images[0]["props"]["detectors"] == ["aws-rekognition"]


def test_the_newest_labelling_in_a_batch_wins_and_the_rest_are_stale():
    plan = plan_batch([event({"New": 1.0}, minutes=5, event_id="e2"), event({"Old": 1.0}),
                       event({"Old": 1.0})], held={})
    assert [row["label"] for row in plan.label_rows] == ["New"]
    assert (plan.written, plan.stale) == (1, 2)


def test_a_labelling_not_newer_than_the_held_one_writes_nothing():
    held = {"k": ImageState(CAPTURED.isoformat(),
                            {"aws-rekognition": version(event({}, minutes=5))})}
    plan = plan_batch([event({"Old": 1.0}), event({"Same": 1.0}, minutes=5)], held)
    assert (plan.images, plan.label_rows, plan.written, plan.stale) == ([], [], 0, 2)


def test_a_newer_labelling_replaces_only_its_detectors_label_set():
    held = {"k": ImageState(CAPTURED.isoformat(), {"aws-rekognition": version(event({})),
                                                   "other": version(event({}, minutes=99))})}
    plan = plan_batch([event({"Car": 80.0}, minutes=5, event_id="e2")], held)
    assert plan.replace == [{"object_key": "k", "detector": "aws-rekognition"}]
    assert plan.link == []  # same capture time: the links it has are right
    # The other detector's later labelling still describes the image.
    assert set(plan.images[0]["props"]) == {"detectors", "detector_versions", "tally_version"}
    assert plan.images[0]["props"]["detectors"] == ["aws-rekognition", "other"]


def test_a_changed_capture_time_relinks_the_image():
    held = {"k": ImageState("2016-01-01T00:00:00+00:00", {"aws-rekognition": version(event({}))})}
    plan = plan_batch([event({}, minutes=5, event_id="e2")], held)
    assert plan.unlink == ["k"]
    assert [row["object_key"] for row in plan.link] == ["k"]


def test_excluded_cameras_and_repeated_label_names():
    plan = plan_batch([event({}, camera="skip", key="s"),
                       event({"Person": 50.0}, key="k")], held={},
                      excluded_cameras=frozenset({"skip"}))
    assert (plan.excluded, [row["object_key"] for row in plan.images]) == (1, ["k"])
    doubled = event({"Person": 50.0})
    doubled = doubled.model_copy(update={"labels": [*doubled.labels,
                                                    DetectedLabel(name="Person", confidence=90)]})
    rows = plan_batch([doubled], held={}).label_rows
    assert [(row["label"], row["props"]["confidence"]) for row in rows] == [("Person", 90.0)]


def test_the_version_orders_by_labelling_time_then_event_id():
    assert version(event({}, minutes=1, event_id="a")) > version(event({}, event_id="z"))
    assert version(event({}, event_id="b")) > version(event({}, event_id="a"))


def before_1970(labelled: datetime, event_id: str) -> ImageLabeled:
    # The contract may refuse such times; the ordering must be right for any time anyway.
    return event({}).model_copy(update={"labeled_at": labelled, "event_id": ids(event_id)})


def test_versions_order_by_number_before_1970_too():
    earlier = before_1970(datetime(1969, 12, 31, 23, 59, 58, tzinfo=UTC), "b")
    later = before_1970(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), "a")
    assert version(later) > version(earlier)
    plan = plan_batch([later, earlier], held={})
    assert plan.images[0]["props"]["labeled_at"] == later.labeled_at.isoformat()
    held = {"k": ImageState(CAPTURED.isoformat(), {"aws-rekognition": version(later)})}
    assert plan_batch([earlier], held).stale == 1


def test_stored_versions_keep_their_form_and_are_read_back_as_numbers():
    modern = event({}, event_id="a")
    assert encode_version(version(modern)) == f"{version(modern)[0]:015d}|{ids('a')}"
    old_1969 = before_1970(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), "a")
    stored = encode_version(version(old_1969))
    assert stored == f"-00000000001000|{ids('a')}"
    assert decode_version(stored) == (-1000, ids("a"))
    # A value this writer did not write counts as older than any labelling.
    assert decode_version("3.0") == decode_version(None) == OLDEST
    held = {"k": ImageState(CAPTURED.isoformat(), {"aws-rekognition": decode_version(stored)})}
    plan = plan_batch([event({"Person": 90.0})], held)
    assert (plan.written, plan.replace) == (1, [{"object_key": "k",
                                                  "detector": "aws-rekognition"}])


def test_each_label_edge_carries_its_boxes_as_json():
    person = DetectedLabel(name="Person", confidence=91.0, instances=[LabelInstance(
        bounding_box=BoundingBox(width=0.25, height=0.5, left=0.1, top=0.123456),
        confidence=91.0)])
    labelled = event({}).model_copy(update={"labels": [person, DetectedLabel(
        name="Plant", confidence=60.0)]})
    rows = {row["label"]: row["props"] for row in plan_batch([labelled], held={}).label_rows}
    assert json.loads(rows["Person"]["boxes"]) == [[0.1, 0.1235, 0.25, 0.5, 91.0]]
    assert json.loads(rows["Plant"]["boxes"]) == []


def test_each_label_counts_the_change_of_its_edges():
    assert plan_batch([event({"Person": 98.5, "Plant": 70.0})], held={}).label_counts == [
        {"label": "Person", "delta": 1}, {"label": "Plant", "delta": 1}]
    first = version(event({}))
    held = {"k": ImageState(CAPTURED.isoformat(), {"aws-rekognition": first, "other": first},
                            "front", {"aws-rekognition": {"Car": 50.0, "Dog": 40.0},
                                      "other": {"Dog": 30.0}})}
    # A relabel that keeps Car, drops Dog and finds Cat; the other detector's Dog stays.
    relabel = event({"Car": 80.0, "Cat": 60.0}, minutes=5, event_id="e2")
    assert plan_batch([relabel], held).label_counts == [
        {"label": "Cat", "delta": 1}, {"label": "Dog", "delta": -1}]
    assert plan_batch([event({"Car": 50.0, "Dog": 40.0})], held).label_counts == []  # replay
    added = event({"Car": 20.0, "Dog": 10.0}, detector="third", event_id="e3")
    assert plan_batch([added], held).label_counts == [
        {"label": "Car", "delta": 1}, {"label": "Dog", "delta": 1}]
    # An image no tally counts yet (written before them) still holds its edges.
    uncounted = {"k": replace(held["k"], tallied=False)}
    assert plan_batch([relabel], uncounted).label_counts == [
        {"label": "Cat", "delta": 1}, {"label": "Dog", "delta": -1}]
