"""``python -m fitsbind CMD ...``: the ``fitsbind`` command."""

import sys

from fitsbind.cli import main

sys.exit(main())
