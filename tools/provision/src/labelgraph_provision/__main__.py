import sys

from labelgraph_provision.cli import main

sys.exit(main())
