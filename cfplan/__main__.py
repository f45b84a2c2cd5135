"""``python -m cfplan``: the command line."""

from cfplan.cli import main

raise SystemExit(main())
