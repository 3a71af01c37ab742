"""Writing policies as TOML a person can edit: round-trip edits with tomlkit keep every comment.

Reading stays with the stdlib (``tomllib`` in :mod:`mape.policy_file`); only writing needs tomlkit,
because a policy file is documentation too and a rewrite must not strip the user's notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from mape.names import name_problem
from mape.policy import PolicyError
from mape.policy_file import parse_policy


def check_name(name: str) -> None:
    """A policy name is also its file name (the rule is :func:`mape.names.name_problem`).

    >>> check_name("my-policy+retrain")
    >>> check_name("../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mape.policy.PolicyError: policy name '../x': use letters, digits and _ . + -, ...
    """
    problem = name_problem(name)
    if problem:
        raise PolicyError(problem)


def edit_text(text: str, changes: Mapping[str, Any], header: str = "") -> str:
    """``text`` with dotted keys set to new values (comments and order kept) and ``header`` on top.

    >>> print(edit_text('name = "a"  # the name\\n[switch]\\nexplore = 0.1\\n',
    ...                 {"name": "b", "switch.explore": 0.2}, "new"), end="")
    # new
    name = "b"  # the name
    [switch]
    explore = 0.2
    """
    doc = tomlkit.parse(text)
    for path, value in changes.items():
        *sections, key = path.split(".")
        table: Any = doc
        for section in sections:
            if section not in table:
                table[section] = tomlkit.table()
            table = table[section]
        table[key] = value
    body = tomlkit.dumps(doc)
    if header:
        lead = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        body = lead + body
    return body


def write_policy(path: Path, text: str, force: bool = False) -> None:
    """Validate ``text`` as a policy, then write it (atomically; never over a file unless ``force``)."""
    parse_policy(text, str(path))
    if path.exists() and not force:
        raise PolicyError(f"{path}: already exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
