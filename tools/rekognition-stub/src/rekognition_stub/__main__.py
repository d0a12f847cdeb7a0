"""Start the stub: `python -m rekognition_stub --host 127.0.0.1 --port 8900 [--rules FILE]`."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from rekognition_stub.calls import CallLog
from rekognition_stub.config import read_settings
from rekognition_stub.rules import RuleBook, RulesDocument
from rekognition_stub.rules_format import RulesError, parse_document
from rekognition_stub.s3 import S3ImageStore, make_s3_client
from rekognition_stub.server import Stub, make_server

# Enough pooled S3 connections that request threads rarely wait for one.
S3_POOL_SIZE = 64

log = logging.getLogger("rekognition_stub")


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted."""
    settings = read_settings(argv, os.environ)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stub = Stub(
        rules=RuleBook(load_rules(settings.rules_file)),
        calls=CallLog(),
        images=S3ImageStore(make_s3_client(S3_POOL_SIZE)),
        limits=settings.limits,
    )
    server = make_server(stub, settings.host, settings.port)
    host, port = server.server_address[:2]
    log.info("listening on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def load_rules(path: Path | None) -> RulesDocument:
    """The rules document in the file, or an empty one (no labels) without a file."""
    if path is None:
        return RulesDocument()
    try:
        return parse_document(json.loads(path.read_text()))
    except (OSError, ValueError, RulesError) as error:
        raise SystemExit(f"rekognition-stub: cannot load rules from {path}: {error}") from error


if __name__ == "__main__":
    main()
