"""ministack: S3, SQS and SNS whose objects are on disk the moment a put is acknowledged.

It pins botocore 1.43.106, which the workspace cannot share, so it runs from its own
virtual environment (`make stand-ins`, tools/devstack/ministack/requirements.txt).
"""

from __future__ import annotations

import os
from pathlib import Path

from labelgraph_devstack.errors import MissingDependencyError
from labelgraph_devstack.ports import HOST
from labelgraph_devstack.probes import http_ok
from labelgraph_devstack.spec import WORKSPACE_ROOT, ComponentSpec

PYTHON_VARIABLE = "DEVSTACK_MINISTACK_PYTHON"
DEFAULT_PYTHON = WORKSPACE_ROOT / ".tools" / "ministack" / "bin" / "python"


def ministack(port: int, objects: Path, snapshot: Path,
              credentials: dict[str, str]) -> ComponentSpec:
    """Objects under `objects` (written at once); queues and topics in `snapshot`, which
    ministack writes only on a graceful stop and reads at start. `credentials` are the
    clients' AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: ministack checks a presigned
    URL's signature against its own root key (its "test" without them), so the api's
    image URLs would answer 403 InvalidAccessKeyId in the browser."""
    url = f"http://{HOST}:{port}"
    env = {
        "GATEWAY_PORT": str(port),
        "BIND_HOST": HOST,
        "S3_PERSIST": "1",
        "S3_DATA_DIR": str(objects),
        "PERSIST_STATE": "1",
        "STATE_DIR": str(snapshot),
        "LOG_LEVEL": "WARNING",  # INFO logs every request: the log would outgrow the data
        **credentials,
    }
    argv = (str(_python()), "-m", "ministack")
    ready = lambda: http_ok(f"{url}/_ministack/ready")  # noqa: E731
    return ComponentSpec("aws", "AWS (ministack: S3, SQS, SNS)", url, argv, port, ready, env)


def consume_snapshot(snapshot: Path) -> None:
    """Delete the queues' snapshot once a started ministack has read it.

    A SIGKILL leaves no new snapshot, and the old one would bring back messages that
    were handled since; provisioning at every start makes the queues anew instead.
    """
    for saved in snapshot.glob("*.json"):
        saved.unlink(missing_ok=True)


def _python() -> Path:
    python = Path(os.environ.get(PYTHON_VARIABLE) or DEFAULT_PYTHON)
    if not os.access(python, os.X_OK):
        raise MissingDependencyError(
            f"ministack's environment is missing ({python}): run `make stand-ins`"
        )
    return python
