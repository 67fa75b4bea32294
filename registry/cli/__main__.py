"""`python -m registry.cli`, as the tests and some deployments run the command."""

import sys

from registry.cli import main

sys.exit(main())
