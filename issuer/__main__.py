"""`python -m issuer` and the `frontdesk-issuer` command: the command line in `issuer.cli`."""

from __future__ import annotations

import sys

from issuer.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
