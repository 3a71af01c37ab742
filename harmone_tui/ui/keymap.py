"""The user's key remapping: a ``[keymap]`` table in settings.toml, binding id → keys.

Every binding has an id (``harmone.<verb>``, listed by the help screen); Textual's keymap
(``App.set_keymap``) swaps a binding's keys for the ones named here, as Posting does::

    [keymap]
    "harmone.pause" = "z"               # one key
    "harmone.help" = ["f1", "h"]        # or several (a list, or "f1,h")

An entry that cannot work (an id no binding has, a key name Textual does not know, a value that is
not a string) is left out and reported once, as one line naming the file, id and problem; the
rest of the keymap applies. Pure: no Textual app here, only its key names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from textual.keys import REPLACED_KEYS, Keys, key_to_character

MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
KEY_NAMES = {k.value for k in Keys if not k.value.startswith("<")} | set(REPLACED_KEYS)


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a key Textual can bind (None when it is), e.g. ``ctrl+x``, ``f5``."""
    key = key.strip()
    if not key:
        return "an empty key"
    if len(key) == 1:
        return None
    *modifiers, base = key.split("+")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"{unknown[0]!r} is not a modifier (ctrl, shift, alt, meta, super, hyper)"
    if len(base) == 1 or base in KEY_NAMES or key_to_character(base) is not None:
        return None
    return f"{base!r} is not a key name (e.g. z, f5, ctrl+x, question_mark, space)"


def read_keymap(
    table: Any, known_ids: Iterable[str], source: str
) -> tuple[dict[str, str], list[str]]:
    """The usable entries of a ``[keymap]`` table as ``{id: "key,key"}``, and one line per
    entry left out (naming ``source``, the id and the problem)."""
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        return {}, [f"{source}: [keymap] must be a table of binding id = keys"]
    known = sorted(set(known_ids))
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in table.items():
        where = f"{source}: [keymap] {binding_id}"
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, known, n=1)
            hint = (
                f" (did you mean {close[0]}?)" if close else " (the help screen, ?, lists the ids)"
            )
            problems.append(f"{where}: no binding has this id{hint}")
            continue
        keys = value.split(",") if isinstance(value, str) else value
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            problems.append(f"{where}: give a key as a string, or several as a list of strings")
            continue
        bad = next(((k, p) for k in keys if (p := key_problem(k)) is not None), None)
        if bad is not None:
            problems.append(f"{where}: {bad[1]}")
            continue
        keymap[binding_id] = ",".join(k.strip() for k in keys)
    return keymap, problems
