"""`python -m roofline_lab.measure`: see roofline_lab.measure.cli."""

import sys

from roofline_lab.measure.cli import main

sys.exit(main())
