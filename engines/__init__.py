"""Managed systems ("engines") behind one protocol; heavy frameworks are imported lazily."""
