"""The Textual front end (the only package importing Textual); start it with ``launch.launch``."""
