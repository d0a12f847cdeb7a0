import os
import threading
from zoneinfo import ZoneInfo

from labelgraph_importer.importing import Action, Importer
from labelgraph_importer.store import FakeImageStore
from labelgraph_importer.watching import FolderWatch, follow

from ..conftest import still_bytes

LA = ZoneInfo("America/Los_Angeles")
NAME = "mdalarm_20170105-165117.jpg"
KEY = f"alarms/frontdoor/2017-01-05/16/{NAME}"


def watcher(folder, store) -> FolderWatch:
    return FolderWatch(folder, Importer(store, "frontdoor", LA))


def test_a_still_is_imported_once_it_stops_changing_and_only_once(tmp_path):
    store = FakeImageStore()
    watch = watcher(tmp_path, store)
    (tmp_path / NAME).write_bytes(still_bytes())
    assert watch.poll() == []  # just arrived: it may still be written
    [outcome] = watch.poll()
    assert (outcome.action, outcome.key) == (Action.IMPORTED, KEY)
    assert watch.poll() == [] and watch.poll() == [] and store.puts == 1


def test_a_still_being_written_waits_until_it_is_whole(tmp_path):
    store, whole = FakeImageStore(), still_bytes()
    watch = watcher(tmp_path, store)
    path = tmp_path / NAME
    for end in (100, 300, len(whole)):  # an FTP upload, a chunk per poll
        path.write_bytes(whole[:end])
        assert watch.poll() == []
    [outcome] = watch.poll()
    assert outcome.action is Action.IMPORTED and store.objects[KEY][0] == whole


def test_a_restarted_watch_imports_nothing_twice(tmp_path):
    store = FakeImageStore()
    (tmp_path / NAME).write_bytes(still_bytes())
    first = watcher(tmp_path, store)
    first.poll(), first.poll()
    restarted = watcher(tmp_path, store)  # nothing remembered but the bucket
    restarted.poll()
    [outcome] = restarted.poll()
    assert outcome.action is Action.SKIPPED and store.puts == 1


def test_a_file_changed_after_import_is_looked_at_again_and_refused(tmp_path):
    store = FakeImageStore()
    watch = watcher(tmp_path, store)
    path = tmp_path / NAME
    path.write_bytes(still_bytes(seed=1))
    watch.poll(), watch.poll()
    path.write_bytes(still_bytes(seed=2, original="bad"))
    os.utime(path, ns=(1, 1))
    watch.poll()
    [outcome] = watch.poll()
    assert (outcome.action, outcome.reason) == (Action.REFUSED, "key_taken")
    assert store.objects[KEY][0] == still_bytes(seed=1)


def test_follow_polls_until_stopped_and_reports_each_outcome(tmp_path):
    (tmp_path / NAME).write_bytes(still_bytes())
    stop, reported = threading.Event(), []

    def report(outcome):
        reported.append(outcome)
        stop.set()

    follow(watcher(tmp_path, FakeImageStore()), 0.001, stop, report)
    assert [o.action for o in reported] == [Action.IMPORTED]
