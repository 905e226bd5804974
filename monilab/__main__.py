"""``python -m monilab`` runs the CLI."""

import sys

from monilab.cli import main

sys.exit(main())
