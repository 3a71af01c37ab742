"""harmone-tui: a terminal app that keeps a machine-learning system healthy by itself."""

__version__ = "0.1.0"
