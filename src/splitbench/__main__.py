"""``python -m splitbench``: the same command line as ``splitbench``."""

import sys

from splitbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
