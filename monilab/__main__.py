"""``python -m monilab`` runs the CLI."""

import sys

from monilab.cli.main import main

sys.exit(main())
