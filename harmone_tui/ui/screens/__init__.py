"""One module per screen: dashboard, policy editor, event log, models, runs, and the modals."""
