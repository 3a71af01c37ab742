"""`harmone engine new NAME`: write a working plug-in engine package from the bundled template.

The template (``harmone_tui/engine_template/*.tmpl``) is a complete engine with a real model
(numpy least squares), its pyproject declaring the ``harmone.engines`` entry point, a README and
a test; ``pip install -e`` of the written folder makes ``harmone --engine NAME`` work. The same
template is docs/engines.md's example, and tests install and run it as a user would.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from harmone_common.errors import HarmoneError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED = ("regression", "vision", "fake")
# template file -> path in the package folder ($package: the Python package's name)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "$package/__init__.py",
    "engine.py.tmpl": "$package/engine.py",
    "test_engine.py.tmpl": "tests/test_$package.py",
}


class SkeletonError(HarmoneError):
    """The engine name or the target folder cannot be used."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an engine (None: it can).

    >>> name_problem("wind_speed") is None, name_problem("Wind")
    (True, "engine name 'Wind': use lower-case letters, digits and _, starting with a letter")
    """
    if not NAME.match(name):
        return f"engine name {name!r}: use lower-case letters, digits and _, starting with a letter"
    if name in RESERVED:
        return f"engine name {name!r} is a bundled engine's"
    return None


def write_skeleton(name: str, parent: Path) -> Path:
    """Write the package for engine ``name`` into ``parent/name``; returns that folder.

    Refuses a name that is not an identifier and a folder that exists (nothing is overwritten).
    """
    problem = name_problem(name)
    if problem:
        raise SkeletonError(problem)
    target = parent.expanduser() / name
    if target.exists():
        raise SkeletonError(f"{target}: already exists; choose another --dir or remove it")
    values = {
        "name": name,
        "package": f"harmone_{name}",
        "dist": f"harmone-{name.replace('_', '-')}",
        "cls": "".join(part.capitalize() for part in name.split("_")) + "Engine",
    }
    template = resources.files("harmone_tui") / "engine_template"
    try:
        for source, dest in FILES.items():
            path = target / Template(dest).substitute(values)
            path.parent.mkdir(parents=True, exist_ok=True)
            text = (template / source).read_text(encoding="utf-8")
            path.write_text(Template(text).substitute(values), encoding="utf-8")
    except OSError as exc:
        raise SkeletonError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return target
