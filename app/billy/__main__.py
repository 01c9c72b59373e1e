"""`python -m billy`."""

import sys

from billy.cli import main

sys.exit(main())
