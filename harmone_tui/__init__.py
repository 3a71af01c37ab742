"""harmone-tui: a terminal app that keeps a machine-learning system healthy by itself."""

from __future__ import annotations

__version__ = "0.1.0"
