"""The ``medbot`` command line (argparse). Only this module calls sys.exit."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("medbot: not implemented yet", file=sys.stderr)
    return 2
