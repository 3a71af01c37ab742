"""The bounds a regression data file must respect, and why each bound is what it is.

``VALUE_LIMIT``: every value must satisfy ``|x| <= 1e100``. R², MSE and MAE square or sum
differences of values and predictions over a whole run; float64 overflows past 1.8e308, so a
column of 1e300 used to end a run with R² ``nan`` and numpy overflow warnings. With values bounded
by 1e100, a squared error is at most about 4e200 even when a model extrapolates a few spans past
its training range, and a sum of millions of them stays near 1e207: about a hundred orders of
magnitude from overflow. The models' min-max scalers (``max - min``) cannot overflow either. No
measured quantity a forecaster is used on comes near 1e100; a value that does is a broken export.

``MAX_ROWS`` and ``MAX_BYTES``: a cap on what is read, so a huge (or, compressed, a decompression
bomb) file fails with a message instead of exhausting memory. Five million 5-minute rows are 47
years of one detector; a run preallocates about 64 bytes of telemetry per step, so the cap keeps
a whole-file run under ~0.4 GB. 1 GiB of CSV text is about 16 million raw PeMS rows.
"""

from __future__ import annotations

VALUE_LIMIT = 1e100
MAX_ROWS = 5_000_000
MAX_BYTES = 1 << 30
HEADER_BYTES = 1 << 16  # a first line longer than this is not a CSV header
