"""Entry point for ``python -m nnplay``: see ``cli``."""

import sys

from .cli import main

sys.exit(main())
