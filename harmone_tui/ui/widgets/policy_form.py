"""A keyboard form over every policy field, validated as you type.

One row per field of :func:`harmone_tui.ui.policy_edit.policy_fields`: numbers, names, lists and
tables are compact inputs, choices are selects, true/false switches are selects too. Each change
is parsed and checked with the field's own schema rule (the same messages as ``harmone policy
check``); the row shows the problem in place of its help text (the schema's, from
:mod:`mape.policy_fields`) and the form posts :class:`PolicyForm.Edited` so the screen can run
the whole-policy checks and update the dirty marker.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from harmone_tui.ui.policy_edit import Field, same_value


def _wid(field: Field) -> str:
    return "field-" + field.path.replace(".", "-").replace("_", "-")


class PolicyForm(VerticalScroll):
    """The fields; the screen calls :meth:`load` and reads :meth:`values` / :attr:`errors`."""

    DEFAULT_CSS = """
    PolicyForm { height: 1fr; padding: 0 1; }
    PolicyForm .section { text-style: bold; color: $primary; margin-top: 1; }
    PolicyForm .row { height: 1; }
    PolicyForm .row Label { width: 20; }
    PolicyForm .row Input, PolicyForm .row Select { width: 36; }
    PolicyForm .hint {
        color: $foreground 60%; width: 1fr; height: 1; padding-left: 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    PolicyForm .hint.-error { color: $error; text-style: bold; }
    PolicyForm .row.-changed Label { text-style: bold; color: $accent; }
    PolicyForm .row:focus-within { background: $primary 20%; }
    PolicyForm .row:focus-within Label { text-style: bold underline; }
    PolicyForm Input.-invalid { border: none; background: $error 25%; }
    """

    class Edited(Message):
        """A field changed; ``form`` is the form (read its values and errors)."""

        def __init__(self, form: PolicyForm, path: str) -> None:
            super().__init__()
            self.form = form
            self.path = path

    def __init__(self, fields: list[Field], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fields = fields
        self.errors: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._baseline: dict[str, Any] = {}
        self._loading = False

    def compose(self) -> ComposeResult:
        section = None
        for field in self.fields:
            if field.section != section:
                section = field.section
                yield Static(
                    f"[{section}]" if section else "policy", classes="section", markup=False
                )
            with Horizontal(classes="row", id=f"row-{_wid(field)}"):
                yield Label(field.key, markup=False)
                yield self._input(field)
                yield Static(field.help, classes="hint", id=f"hint-{_wid(field)}", markup=False)

    def _input(self, field: Field) -> Widget:
        wid = _wid(field)
        if field.kind == "choice":
            options = [(o, o) for o in field.options]
            return Select(options, allow_blank=False, compact=True, id=wid)
        if field.kind == "bool":  # a select, not a checkbox: "true"/"false" reads without colour
            return Select(
                [("true", True), ("false", False)], allow_blank=False, compact=True, id=wid
            )
        return Input(compact=True, id=wid, select_on_focus=False)

    # values ---------------------------------------------------------------------------------
    def load(self, values: dict[str, Any]) -> None:
        """Show ``values`` (path -> value) as the clean state."""
        self._loading = True
        self._values = dict(values)
        self._baseline = dict(values)
        self.errors = {}
        for field in self.fields:
            widget = self.query_one(f"#{_wid(field)}")
            value = values.get(field.path)
            if isinstance(widget, Select):
                widget.value = value
            elif isinstance(widget, Input):
                widget.value = "" if value is None else field.show(value)
            self._mark(field, None)
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def values(self) -> dict[str, Any]:
        """The parsed values of every field (the last valid value of an invalid field)."""
        return dict(self._values)

    def changed(self) -> list[str]:
        """Paths whose value differs from the loaded one."""
        return [p for p, v in self._values.items() if not same_value(v, self._baseline.get(p))]

    # events ---------------------------------------------------------------------------------
    def _field_of(self, widget_id: str | None) -> Field | None:
        return next((f for f in self.fields if _wid(f) == widget_id), None)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        field = self._field_of(event.input.id)
        if field is None:
            return
        try:
            value = field.parse(event.value)
        except ValueError as exc:
            self._mark(field, str(exc))
        else:
            self._accept(field, value)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        field = self._field_of(event.select.id)
        if field is not None and event.value is not Select.BLANK:
            self._accept(field, event.value)

    def _accept(self, field: Field, value: Any) -> None:
        problem = field.check(value)
        if problem is None:
            self._values[field.path] = value
        self._mark(field, problem)

    def _mark(self, field: Field, problem: str | None) -> None:
        wid = _wid(field)
        if problem:
            self.errors[field.path] = problem
        else:
            self.errors.pop(field.path, None)
        hint = self.query_one(f"#hint-{wid}", Static)
        hint.update(f"✖ {problem}" if problem else field.help)
        hint.set_class(bool(problem), "-error")
        self.query_one(f"#{wid}").set_class(bool(problem), "-invalid")
        changed = not same_value(self._values.get(field.path), self._baseline.get(field.path))
        self.query_one(f"#row-{wid}").set_class(changed, "-changed")
        if not self._loading:
            self.post_message(self.Edited(self, field.path))
