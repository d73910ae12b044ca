"""`python -m askbase.app.cli`: the `askbase` command."""

import sys

from askbase.app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
