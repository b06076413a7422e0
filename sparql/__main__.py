"""``python -m sparql`` runs the federate command line."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
