"""What every layer may use: the error family and durable file writing (imports nothing above)."""
