"""Tallies through the real graph (the session's ArcadeDB): the writer's adapter writes
random histories, the recount (in process and as the command) finds no difference."""

import asyncio
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from neo4j import AsyncGraphDatabase
from neo4j.exceptions import TransientError

from labelgraph_graph_writer import cypher
from labelgraph_graph_writer.adapters.graph import LabelGraph
from labelgraph_graph_writer.bootstrap import recount
from labelgraph_graph_writer.domain import plan_batch
from labelgraph_graph_writer.recount import Scope
from labelgraph_graph_writer.recount import recount as recount_tallies
from labelgraph_graph_writer.tallies import ANY_DETECTOR, tally_key_text, tally_property


async def write_history(env, events, rng):
    driver = AsyncGraphDatabase.driver(env["NEO4J_URI"],
                                       auth=(env["NEO4J_USER"], env["NEO4J_PASSWORD"]))
    try:
        graph = LabelGraph(driver, env["NEO4J_DATABASE"])
        await graph.ensure_schema()
        fold_at = len(events) // 2
        while events:
            size = rng.randint(1, 8)
            batch, events = events[:size], events[size:]
            keys = sorted({event.object_key for event in batch})
            await graph.write_batch(keys, lambda held, batch=batch: plan_batch(batch, held))
            if fold_at and len(events) <= fold_at:  # the rest changes folded days too
                assert await graph.fold_settled_days(time.time() + 1, 10_000) > 0
                fold_at = 0
        return await graph.tallies(None)
    finally:
        await driver.close()


@pytest.mark.parametrize("seed", range(3))
def test_random_histories_leave_tallies_equal_to_the_recount_of_the_edges(kit, helpers, seed):
    rng = random.Random(seed)
    camera = f"tally-{uuid.uuid4().hex[:8]}"
    labels = [f"T{uuid.uuid4().hex[:6]}" for _ in range(3)]
    events = helpers.random_history(rng, [camera], labels, images=10)
    stored = asyncio.run(write_history(kit.env, list(events), rng))
    settings = kit.settings("unused")
    assert asyncio.run(recount(settings, Scope(camera))) == []
    mine = {key: props for key, props in stored.items() if key[1] == camera}
    assert any(key[0] == "month" for key in mine), "days were folded into months"
    assert recount_tallies(Scope(), helpers.expected_facts(events), mine).differences == []
    counted = kit.query(LABEL_COUNTS, labels=labels)
    assert {row["label"]: row["stored"] for row in counted} == {
        row["label"]: row["degree"] for row in counted}
    assert {row["label"]: row["stored"] for row in counted if row["stored"]} == \
        expected_edges(helpers.expected_facts(events))


LABEL_COUNTS = """
MATCH (label:Label) WHERE label.label_name IN $labels
RETURN label.label_name AS label, label.edge_count AS stored,
       COUNT { (label)<-[:HAS_LABEL]-() } AS degree
"""


def expected_edges(facts):
    """Each label's edges after a history (those it has), independently of the writer."""
    edges = {}
    for image in facts:
        for by_label in image.labels.values():
            for name in by_label:
                edges[name] = edges.get(name, 0) + 1
    return edges


# A writer's batch (WE: its edge, WA: its counter, Wc: its commit) and a count of the
# label's edges (F, Fc: the fill's, or a repair's) in every order on one label; where they
# overlap, the second to commit is refused (a conflict the writer and the fill retry), and
# done again alone. Without the `edge_version` both change, ArcadeDB commits both of
# "WE WA F Wc Fc": a count short by one.
ORDERS = ("WE WA F Wc Fc", "WE WA F Fc Wc", "WE F WA Wc Fc", "WE F WA Fc Wc", "WE F Fc WA Wc",
          "F WE WA Wc Fc", "F WE WA Fc Wc", "WE WA Wc F Fc", "F Fc WE WA Wc")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("counted", [False, True], ids=["uncounted", "counted"])
def test_a_count_of_a_labels_edges_and_a_writer_adding_to_it_conflict_in_any_order(
        kit, order, counted):
    name, key = f"F{uuid.uuid4().hex[:8]}", f"fill/{uuid.uuid4().hex}.jpg"
    kit.query("MERGE (label:Label {label_name: $name})", name=name)
    kit.query("UNWIND range(1, 3) AS n MATCH (label:Label {label_name: $name}) "
              "CREATE (:Image {object_key: $name + toString(n)})-[:HAS_LABEL]->(label)",
              name=name)
    if counted:
        kit.query(cypher.RECOUNT_LABELS, names=[name])
    kit.query("CREATE (:Image {object_key: $key})", key=key)
    edge = [{"object_key": key, "label": name, "props": {"detector": "d"}}]
    writer = [(cypher.CREATE_LABEL_EDGES, {"rows": edge}),
              (cypher.ADD_LABEL_EDGES, {"rows": [{"label": name, "delta": 1}]})]
    steps = {"WE": writer[:1], "WA": writer[1:],
             "F": [(cypher.RECOUNT_LABELS, {"names": [name]})]}
    database = kit.env["NEO4J_DATABASE"]
    with kit.driver.session(database=database) as w_session, \
            kit.driver.session(database=database) as f_session:
        transactions = {"W": w_session.begin_transaction(), "F": f_session.begin_transaction()}
        refused = []
        for step in order.split():
            who = step[0]
            if step.endswith("c"):
                try:
                    transactions[who].commit()
                except TransientError:
                    refused.append(who)
                continue
            for statement, parameters in steps[step]:
                transactions[who].run(statement, parameters).consume()
    assert len(refused) <= 1
    for who in refused:  # retried alone, as the writer's and the fill's loops do
        for step in (["WE", "WA"] if who == "W" else ["F"]):
            for statement, parameters in steps[step]:
                kit.query(statement, **parameters)
    held = kit.query(LABEL_COUNTS, labels=[name])
    assert held == [{"label": name, "stored": 4, "degree": 4}], refused


def test_the_recount_command_exits_1_and_names_a_tally_that_differs(kit, helpers):
    rng = random.Random(7)
    camera = f"tally-{uuid.uuid4().hex[:8]}"
    events = helpers.random_history(rng, [camera], ["Person", "Car"], images=4)
    asyncio.run(write_history(kit.env, list(events), rng))
    env = kit.process_env("unused")
    command = [sys.executable, "-m", "labelgraph_graph_writer", "recount", "--camera", camera,
               "--since", "2016-11-30", "--until", "2016-12-02"]
    clean = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (clean.returncode, clean.stdout.splitlines()[-1]) == (
        0, "0 tallies differ from the recount of the edges"), clean.stderr
    key = tally_key_text(("day", camera, "2016-11-30"))
    images = tally_property(ANY_DETECTOR, None)
    held = kit.query("MATCH (t:Tally {tally_key: $key}) RETURN t[$name] AS counts",
                     key=key, name=images)
    assert held and held[0]["counts"], "the history put an image on 2016-11-30"
    hours = held[0]["counts"]
    wrong = [count + 1 if hour == 23 else count for hour, count in enumerate(hours)]
    kit.query("MATCH (t:Tally {tally_key: $key}) SET t += $props", key=key,
              props={images: wrong})
    off = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert off.returncode == 1, off.stderr
    shown = {hour: count for hour, count in enumerate(hours) if count}
    stored = dict(sorted({**shown, 23: shown.get(23, 0) + 1}.items()))
    assert off.stdout.splitlines() == [
        f"{key} {images} (view '*' images): stored {stored}, recounted {shown}",
        "1 tallies differ from the recount of the edges"]
    repaired = subprocess.run([*command, "--repair"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert repaired.returncode == 1, repaired.stderr  # it found the difference, and fixed it
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout.splitlines()) == (
        0, ["0 tallies differ from the recount of the edges"]), again.stderr


def test_the_recount_command_names_a_label_counter_that_is_not_its_degree_and_repairs_it(
        kit, helpers):
    rng = random.Random(8)
    camera, label = f"tally-{uuid.uuid4().hex[:8]}", f"R{uuid.uuid4().hex[:8]}"
    events = helpers.random_history(rng, [camera], [label], images=4)
    asyncio.run(write_history(kit.env, list(events), rng))
    degree = expected_edges(helpers.expected_facts(events))[label]
    kit.query("MATCH (label:Label {label_name: $label}) SET label.edge_count = $wrong",
              label=label, wrong=degree + 5)
    env = kit.process_env("unused")
    command = [sys.executable, "-m", "labelgraph_graph_writer", "recount", "--camera", camera]
    off = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (off.returncode, off.stdout.splitlines()) == (1, [
        f'["label","{label}"] edge_count (its HAS_LABEL edges): stored {degree + 5}, '
        f"recounted {degree}", "1 tallies differ from the recount of the edges"]), off.stderr
    repaired = subprocess.run([*command, "--repair"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert repaired.returncode == 1, repaired.stderr
    assert kit.query(LABEL_COUNTS, labels=[label]) == [
        {"label": label, "stored": degree, "degree": degree}]
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout.splitlines()) == (
        0, ["0 tallies differ from the recount of the edges"]), again.stderr


def test_a_day_node_holds_its_captures_utc_offsets_and_the_recount_repairs_a_missing_one(
        kit, helpers):
    # 2016-11-06 in Los Angeles: 01:30 at -07:00, 09:00 at -08:00 (the clocks went back).
    camera = f"tally-{uuid.uuid4().hex[:8]}"
    events = [helpers.make_event(camera, index, {"Person": 90.0}, captured=datetime(
        2016, 11, 6, hour, 30, tzinfo=timezone(timedelta(hours=offset))))
        for index, (hour, offset) in enumerate(((1, -7), (9, -8), (1, -8)))]
    asyncio.run(write_history(kit.env, list(events), random.Random(1)))
    key = tally_key_text(("day", camera, "2016-11-06"))
    read = "MATCH (t:Tally {tally_key: $key}) RETURN t.utc_offsets AS offsets"
    assert kit.query(read, key=key) == [{"offsets": [-480, -420]}]
    settings = kit.settings("unused")
    assert asyncio.run(recount(settings, Scope(camera))) == []
    kit.query("MATCH (t:Tally {tally_key: $key}) SET t.utc_offsets = [-480]", key=key)
    found = asyncio.run(recount(settings, Scope(camera), repair=True))
    assert [(d.name, d.stored, d.recounted) for d in found] == [
        ("utc_offsets", [-480], [-480, -420])]
    assert kit.query(read, key=key) == [{"offsets": [-480, -420]}]
    assert asyncio.run(recount(settings, Scope(camera))) == []
