"""`python -m harmone_tui` runs the command line."""

from __future__ import annotations

from harmone_tui.cli import main

raise SystemExit(main())
