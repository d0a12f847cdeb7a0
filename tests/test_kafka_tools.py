"""The README's way of reading the topic from another tool works against the embedded broker."""

import asyncio
import os
import pty
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.testing import Message, produce

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
KCAT_BLOCK = re.search(r"^```sh\n(set -a; source \.devstack/stack\.env.*?)^```", README,
                       re.S | re.M)
HEADERS = [("content-type", b"application/json"), ("event-type", b"ImageLabeled")]


def lines_into(terminal: int, lines: queue.Queue[str]) -> None:
    with open(terminal, errors="replace", newline="") as stream:
        try:
            for line in stream:
                lines.put(line.rstrip("\r\n"))
        except OSError:  # EIO: kcat is gone and the terminal closed
            pass


def read_until_keys(lines: queue.Queue[str], keys: list[str], deadline: float) -> list[str]:
    """The lines read until every key and the line after it (its value) were seen.

    A consumer that reads nothing fails at the deadline instead of hanging the suite.
    """
    read: list[str] = []
    while not all(any(line.startswith(key) for line in read[:-1]) for key in keys):
        read.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    return read


def test_the_readmes_kcat_command_reads_the_topic_from_the_embedded_broker(
    stack: EmbeddedStack, tmp_path: Path
):
    assert shutil.which("kcat"), "kcat is missing: make browser installs it"
    assert KCAT_BLOCK, "the README's kcat block is gone"
    (tmp_path / ".devstack").mkdir()
    shutil.copy(stack.env_file, tmp_path / ".devstack" / "stack.env")
    keys = [f"kcat-test/{uuid.uuid4()}/{n}.jpg" for n in range(3)]
    # Sent together, so they travel in one batch (produce lingers): the case where Tansu's
    # offsets have misled clients before.
    asyncio.run(produce(stack.env["KAFKA_BOOTSTRAP_SERVERS"], "image-labels", [
        Message(key.encode(), f'{{"n": {n}}}'.encode(), HEADERS) for n, key in enumerate(keys)]))

    # on a terminal, as a person runs it: kcat buffers its output into a pipe
    terminal, kcat_side = pty.openpty()
    kcat = subprocess.Popen(["bash", "-c", KCAT_BLOCK.group(1)], cwd=tmp_path, text=True,
                            stdout=kcat_side, stderr=subprocess.PIPE, start_new_session=True)
    os.close(kcat_side)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lines_into, args=(terminal, lines), daemon=True).start()
    try:
        read = read_until_keys(lines, keys, deadline=time.monotonic() + 60)
    except queue.Empty:
        os.killpg(kcat.pid, signal.SIGKILL)
        raise AssertionError(f"kcat read none of {keys}: {kcat.communicate()[1][-2000:]}") from None
    os.killpg(kcat.pid, signal.SIGTERM)
    kcat.communicate()

    for n, key in enumerate(keys):
        at = next(i for i, line in enumerate(read) if line.startswith(key))
        assert read[at] == f"{key} content-type=application/json,event-type=ImageLabeled"
        assert read[at + 1] == f'{{"n": {n}}}'
