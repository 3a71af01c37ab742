"""The Textual front end (the only package that imports Textual); start it with ``launch.launch``."""
