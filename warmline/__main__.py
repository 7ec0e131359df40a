"""`python -m warmline ...`: the command line."""

from __future__ import annotations

import sys

from warmline.cli import main

sys.exit(main())
