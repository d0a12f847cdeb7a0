"""Failures classified through the real stack: what cannot succeed is dead-lettered at once
with its reason and counted; only what can succeed on another try is tried again."""

from __future__ import annotations

import pytest

from labelgraph_labeler.adapters.sqs import Upload, uploads

pytestmark = pytest.mark.stack

# SQS itself moves a message after 3 receives of 3 s (the lane's queue): "at once" means
# well before that.
AT_ONCE = 5


def reason_of(message) -> str:
    return message["MessageAttributes"]["failure-reason"]["StringValue"]


def detail_of(message) -> str:
    return message["MessageAttributes"]["failure-detail"]["StringValue"]


def dead_lettered_at_once(lane, count: int = 1) -> list[dict]:
    lane.wait_for(lambda: lane.queue_depth(f"{lane.queue}-dlq") == count, timeout=AT_ONCE)
    lane.wait_for(lambda: lane.queue_depth() == 0, timeout=AT_ONCE)
    return lane.dead_letters()


def test_an_impossible_stamp_in_the_file_name_is_refused_at_once_with_its_reason(
        lane, running_labeler):
    key = lane.key(stamp="20251345-996161")  # month 13, hour 99: no such time
    before = lane.failures("bad_timestamp")
    lane.put(key)

    [dead] = dead_lettered_at_once(lane)

    assert uploads(dead["Body"]) == [Upload(lane.bucket, key)]
    assert reason_of(dead) == "bad_timestamp" and "20251345-996161" in detail_of(dead)
    assert lane.failures("bad_timestamp") == before + 1
    assert lane.rows(key) == [] and lane.stub_calls(key) == 0


def test_a_label_name_the_table_cannot_hold_is_refused_at_once_and_asked_once(
        lane, running_labeler):
    key = lane.key()
    # 1,100 bytes of UTF-8: over DynamoDB's 1,024-byte sort key, and over the contract's
    # bound on label names.
    lane.teach({"match": {"key": key},
                "labels": [lane.label("Person", 97), lane.label("é" * 550, 60)]})
    reasons = ("invalid_event", "table_rejected")
    before = sum(lane.failures(r) for r in reasons)
    lane.put(key)

    [dead] = dead_lettered_at_once(lane)

    assert reason_of(dead) in reasons
    assert sum(lane.failures(r) for r in reasons) == (
        before + 1)
    assert lane.rows(key) == [] and lane.stub_calls(key) == 1


def test_a_message_that_is_no_s3_notification_is_refused_and_the_others_go_on(
        lane, running_labeler):
    sqs = lane.client("sqs")
    url = sqs.get_queue_url(QueueName=lane.queue)["QueueUrl"]
    before = lane.failures("bad_notification", detector="")
    sqs.send_message(QueueUrl=url, MessageBody="{not json")
    sqs.send_message(QueueUrl=url, MessageBody='{"Records": [{"eventName": "ObjectCreated:Put"}]}')
    key = lane.key()
    lane.put(key)

    dead = dead_lettered_at_once(lane, count=2)

    assert sorted(m["Body"] for m in dead) == sorted(
        ["{not json", '{"Records": [{"eventName": "ObjectCreated:Put"}]}'])
    assert {reason_of(m) for m in dead} == {"bad_notification"}
    assert lane.failures("bad_notification", detector="") == before + 2
    assert [row["label"] for row in lane.rows(key)] != []
