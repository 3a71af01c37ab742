"""One policy document: read, locate, validate, edit, save. Every policy file passes through here.

A policy file is documentation too: people write comments in it, and the app edits it (``policy
new``, ``policy import``, the TUI's apply and save). So:

- **reading** uses the stdlib's ``tomllib``; a key's line is found in the text by
  :func:`key_locator`, so every problem reads ``file:line: key: message``;
- **validation** collects every problem at once (:attr:`PolicyDocument.errors`), and
  :attr:`PolicyDocument.policy` raises one :class:`~mape.policy.PolicyError` naming them all;
- **editing** goes through ``tomlkit``, which keeps comments, order and layout; an edit is a new
  document (the text is the document: there is no separate "render");
- **saving** validates first, then writes with the one atomic writer.

>>> doc = PolicyDocument('name = "a"  # mine\\n[switch]\\nexplore = 2\\n', "p.toml")
>>> [str(p) for p in doc.errors]
['p.toml:3: switch.explore: must be <= 1.0, got 2']
>>> print(doc.edit({"switch.explore": 0.2, "name": "b"}, header="new").text, end="")
# new
name = "b"  # mine
[switch]
explore = 0.2
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from harmone_common.files import write_text_atomic
from mape.names import name_problem
from mape.policy import (
    Locator,
    Policy,
    PolicyError,
    Problem,
    error_of,
    model_problems,
    policy_problems,
)


def key_locator(text: str) -> Locator:
    """A function (section, key) -> line number of that key in ``text``, or None.

    >>> locate = key_locator('seed = 1\\n[drift]\\nwindow = 5\\nparams = { delta = 1 }\\n')
    >>> locate("", "seed"), locate("drift", "window"), locate("drift.params", "delta")
    (1, 3, 4)
    """
    lines = text.splitlines()

    def find(section: str, key: str) -> int | None:
        current = ""
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[([^\[\]]+)\]", stripped)
            if header:
                current = header.group(1).strip()
                dotted = f"{section}.{key}" if section else key
                if current == dotted:
                    return number  # a key that is itself a table: [drift.params]
                continue
            if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
                return number
        return None

    def locate(section: str, key: str) -> int | None:
        found = find(section, key)
        if found is None and "." in section:  # a key of an inline table: params = { ... }
            parent, _, child = section.rpartition(".")
            return find(parent, child)
        return found

    return locate


def user_policy_path(folder: Path, name: str) -> Path:
    """Where the user policy ``name`` is kept; a name that is not a plain file name is refused
    (the one rule, :func:`mape.names.name_problem`), so ``..`` never reaches outside ``folder``."""
    problem = name_problem(name)
    if problem:
        raise PolicyError(problem)
    return folder / f"{name}.toml"


@dataclass(frozen=True)
class PolicyDocument:
    """A policy's TOML ``text`` and the ``source`` that names it in messages (a path, ``preset
    harmone``, ``editor``). Immutable: :meth:`edit` returns a new document."""

    text: str
    source: str

    @classmethod
    def from_file(cls, path: Path) -> PolicyDocument:
        if not path.exists():
            raise PolicyError(f"{path}: policy file not found")
        try:
            return cls(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read ({exc})") from None

    @cached_property
    def locate(self) -> Locator:
        return key_locator(self.text)

    def line_of(self, dotted: str) -> int | None:
        """The line of a key (``switch.min_score``, ``seed``) in the text, or None."""
        section, _, key = dotted.rpartition(".")
        return self.locate(section, key)

    @cached_property
    def _data(self) -> dict[str, Any] | Problem:
        """The TOML as read by tomllib, or the problem that stopped it."""
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"at line (\d+)", str(exc))
            where = int(line.group(1)) if line else None
            return Problem(self.source, where, "", f"not valid TOML ({exc})")

    @cached_property
    def _read(self) -> tuple[Policy | None, list[Problem]]:
        if isinstance(self._data, Problem):
            return None, [self._data]
        return policy_problems(self._data, self.source, self.locate)

    def written(self, key: str, default: Any = None) -> Any:
        """A top-level key's value as written, valid or not (``default`` when absent or when
        the text is not TOML): what to report an unknown engine against, for example."""
        return default if isinstance(self._data, Problem) else self._data.get(key, default)

    @property
    def errors(self) -> list[Problem]:
        """Every problem of the document, in file order of the checks (empty when valid)."""
        return list(self._read[1])

    @property
    def policy(self) -> Policy:
        """The validated policy; :class:`PolicyError` names every problem at once."""
        policy, problems = self._read
        if problems or policy is None:
            raise error_of(problems, self.source)
        return policy

    def model_errors(self, known: list[str]) -> list[Problem]:
        """A problem for each model the engine (offering ``known``) lacks; none can be told while
        the models, the engine or the TOML itself is wrong (those are in :attr:`errors`)."""
        policy, problems = self._read
        if policy is None or any(p.key in ("models", "engine") for p in problems):
            return []
        return model_problems(policy, known, self.source, self.locate)

    def edit(self, changes: Mapping[str, Any], header: str = "") -> PolicyDocument:
        """The document with dotted keys set (``drift.params.delta``); comments, order and the
        keys not named are kept, a value equal to the one written stays as written, and
        ``header`` becomes comment lines on top."""
        import tomlkit  # only an edit needs it: reading a policy (every run) stays stdlib
        import tomlkit.exceptions
        from tomlkit.items import InlineTable

        try:
            doc = tomlkit.parse(self.text)
        except tomlkit.exceptions.ParseError as exc:
            problems = self.errors or [Problem(self.source, exc.line, "", f"cannot edit ({exc})")]
            raise error_of(problems, self.source) from None
        for path, value in changes.items():
            *sections, key = path.split(".")
            table: Any = doc
            for section in sections:
                if section not in table:
                    table[section] = tomlkit.table()
                table = table[section]
            old = table.get(key)
            if old is not None and _same(old, value):
                continue
            table[key] = _item(value, inline=isinstance(old, InlineTable))
        body = tomlkit.dumps(doc)
        if header:
            body = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + body
        return PolicyDocument(body, self.source)

    def save(self, path: Path, replace: bool = False) -> None:
        """Validate the text as the file ``path`` would be, then write it atomically; an existing
        file is replaced only if ``replace``. Nothing is written when anything is wrong."""
        problems = PolicyDocument(self.text, str(path)).errors
        if problems:
            raise error_of(problems, str(path))
        if path.exists() and not replace:
            raise PolicyError(f"{path}: already exists (use --force to replace it)")
        try:
            write_text_atomic(path, self.text)
        except OSError as exc:
            raise PolicyError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _item(value: Any, inline: bool) -> Any:
    """``value`` for tomlkit: lists for tuples, an inline table where one was written."""
    import tomlkit

    if isinstance(value, tuple):
        return list(value)
    if inline and isinstance(value, Mapping):
        table = tomlkit.inline_table()
        table.update(value)
        return table
    return value


def _same(item: Any, value: Any) -> bool:
    plain = item.unwrap() if hasattr(item, "unwrap") else item
    if isinstance(plain, list) and isinstance(value, tuple | list):
        return list(plain) == list(value)
    if isinstance(plain, Mapping) and isinstance(value, Mapping):
        return dict(plain) == dict(value)
    return bool(plain == value)
