import sys

from labelgraph_devstack.cli import main

sys.exit(main())
