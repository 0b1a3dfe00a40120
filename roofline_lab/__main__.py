"""`python -m roofline_lab ...`: see roofline_lab.cli."""

import sys

from roofline_lab.cli import main

sys.exit(main())
