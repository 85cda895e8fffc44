"""``python -m httpwire``: the same command as the ``httpwire`` console script."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
