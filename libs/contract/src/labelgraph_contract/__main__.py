"""`python -m labelgraph_contract export [DIR]`: write the topic's JSON Schema and AsyncAPI."""

import sys
from pathlib import Path

from labelgraph_contract.schema import export


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "export" or len(argv) > 2:
        print("usage: python -m labelgraph_contract export [DIR]  (default DIR: schemas)")
        return 2
    for path in export(Path(argv[1] if len(argv) == 2 else "schemas")):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
