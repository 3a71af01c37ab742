"""`python -m harmone_tui` runs the command line."""

from harmone_tui.cli import main

raise SystemExit(main())
