"""`python -m farm ...` runs the farm command line."""

import sys

from farm.cli import main

sys.exit(main())
