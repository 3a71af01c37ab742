"""The one rule for a policy name, which becomes a file or directory name.

A policy's name names its file in the user policies directory (``policy new``, the TUI's save)
and its run directory under ``harmone compare --out``. A name such as ``..`` once made compare
empty the whole output directory, so every place that takes a name applies this rule, and so does
loading a policy: a name that cannot be a path is refused where it is written.
"""

from __future__ import annotations

import re
from typing import Any

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
NAME_RULE = "use letters, digits and _ . + -, starting with a letter or digit, at most 64, no '..'"


def name_problem(name: Any) -> str | None:
    """What is wrong with ``name`` as a policy name, or None.

    >>> name_problem("single-lstm+retrain") is None
    True
    >>> print(name_problem(".."))
    policy name '..': use letters, digits and _ . + -, starting with a letter or digit, at most 64,
    no '..'
    >>> name_problem("a..b") is None, name_problem("a/b") is None
    (False, False)
    """
    if not isinstance(name, str):
        return f"policy name must be a string, got {name!r}"
    if not NAME_RE.match(name) or ".." in name:
        return f"policy name {name!r}: {NAME_RULE}"
    return None
