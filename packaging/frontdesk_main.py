"""Entry script of the bundle: the `frontdesk` command (desktop app, `--self-test`)."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
