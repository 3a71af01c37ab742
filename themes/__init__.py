"""Textual themes shipped with harmone-tui (TOML files, one theme each)."""
