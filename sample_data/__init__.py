"""Bundled sample streams and training data; see sample_data/README.md for how they were built."""
