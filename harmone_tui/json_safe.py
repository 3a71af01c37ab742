"""JSON that every parser reads: no NaN or Infinity, numpy numbers as plain numbers.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default; they are not JSON, and ``jq``,
JavaScript and most other readers reject the whole file. A figure that could not be computed is
``null`` instead. Summaries pass through :func:`finite` where they are made (so the knowledge
store holds the same), and every summary or export file is written with :func:`dumps`, which
also refuses (``allow_nan=False``) anything that slipped past.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, recursively; numpy scalars and
    arrays become Python numbers and lists.

    >>> finite({"r2": float("nan"), "mae": [1.5, float("inf")], "n": np.int64(3)})
    {'r2': None, 'mae': [1.5, None], 'n': 3}
    """
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`finite` ``(value)``; ``default=str`` for paths and the like."""
    kwargs.setdefault("default", str)
    return json.dumps(finite(value), allow_nan=False, **kwargs)
