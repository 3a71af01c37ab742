"""What every layer may import: the error family and the durable file writer.

The bottom layer (``harmone_tui`` -> ``mape`` -> ``engines`` -> ``harmone_common``): it imports
nothing of the project and no third-party package, so engines, the MAPE loop and the front ends
can all raise and catch the same errors and write files the same way.
"""
