"""The policy editor: every field of the running policy, validated as you type.

**ctrl+g** applies the edits to the running loop (in force at the next MAPE cycle; the runtime
records a ``policy_changed`` event), **ctrl+s** saves them as a new TOML policy in the user
policies directory (the original file's comments kept), **ctrl+r** reverts to the running policy.
Harmonica's "Save as Policy" did not reach the running system; here apply and save are separate,
explicit, and both visible in the event log or as a file path.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from harmone_tui import paths
from harmone_tui.ui import policy_edit as edit
from harmone_tui.ui.messages import PolicyApplied, PolicyEdited, PolicySaved
from harmone_tui.ui.screens.base import HarmoneScreen
from harmone_tui.ui.widgets.policy_form import PolicyForm
from mape.policy import PolicyError
from mape.policy_doc import PolicyDocument, user_policy_path

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession
    from mape.policy import Policy


class PolicyScreen(HarmoneScreen):
    """Edit, apply, save or revert the running policy."""

    HELP = """
## Policy editor
Every field of the running policy. Problems show under the field as you type (the same checks
as `harmone policy check`). The screen opens with no field focused, so 1-5, q and p still act;
**tab** moves into the fields. While a field has the focus it takes the keys you type:
**esc** leaves it (then 1-5, q, p act again; F1 and ctrl+p work anywhere).
**ctrl+g** apply to the running loop (next MAPE cycle), **ctrl+s** save as a new policy file,
**ctrl+r** revert to the running policy.
"""
    AUTO_FOCUS = None  # a focused field would swallow the 1-5 that brought the user here
    BINDINGS = [
        Binding(
            "ctrl+g",
            "apply",
            "Apply",
            id="harmone.policy_apply",
            tooltip="Apply the edits to the running loop at its next cycle",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save as",
            id="harmone.policy_save",
            tooltip="Save as a new policy in the user policies directory",
        ),
        Binding(
            "ctrl+r", "revert", "Revert", id="harmone.policy_revert", tooltip="Discard the edits"
        ),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            id="harmone.leave_field",
            tooltip="Leave the field, so keys like 1-5 and q act again",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None
        self._loaded_policy: Policy | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="policy-state")
        yield PolicyForm(edit.policy_fields(), id="form")

    @property
    def session(self) -> RunSession:
        return self.app.session  # type: ignore[attr-defined,no-any-return]

    def running_policy(self) -> tuple[Policy, str, str]:
        """(policy, source, TOML text) in force now."""
        snap = self.session.snapshot
        if snap is not None:
            return snap.policy, snap.policy_source, snap.policy_text
        return self.session.policy, self.session.source, self.session.text

    def first_data(self) -> None:
        self.revert()

    def revert(self) -> None:
        policy, _, _ = self.running_policy()
        self._loaded_policy = policy
        self.query_one(PolicyForm).load(edit.current_values(policy))
        self.problem = None
        self._show_state()
        self.post_message(PolicyEdited(False))

    @property
    def dirty(self) -> bool:
        return bool(self.query_one(PolicyForm).changed())

    @property
    def valid(self) -> bool:
        return not self.query_one(PolicyForm).errors and self.problem is None

    def refresh_data(self, session: RunSession) -> None:
        """Follow the running policy when it changes elsewhere, unless the user is editing."""
        policy, _, _ = self.running_policy()
        if self._loaded_policy is None:
            return
        if policy is not self._loaded_policy and not self.dirty:
            self.revert()
        else:
            self._show_state()

    # validation -----------------------------------------------------------------------------
    def _known_models(self) -> list[str] | None:
        snap = self.session.snapshot
        return list(snap.info.engine_models) if snap is not None else None

    def on_policy_form_edited(self, event: PolicyForm.Edited) -> None:
        form = event.form
        self.problem = None
        if not form.errors:
            try:
                edit.build(form.values(), self._known_models())
            except PolicyError as exc:
                self.problem = str(exc).removeprefix("editor: ").removeprefix("editor:")
        self._show_state()
        self.refresh_bindings()
        self.post_message(PolicyEdited(self.dirty))

    def _show_state(self) -> None:
        policy, source, _ = self.running_policy()
        form = self.query_one(PolicyForm)
        changed = form.changed()
        parts = [f"in force: [b]{escape(policy.name)}[/b] ({escape(source)})"]
        if changed:
            parts.append(
                f"{len(changed)} edited: {', '.join(changed[:3])}{'…' if len(changed) > 3 else ''}"
            )
        if form.errors:
            path, message = next(iter(form.errors.items()))
            parts.append(f"[b]✖ {path}: {escape(message)}[/b]")
        elif self.problem:
            parts.append(f"[b]✖ {escape(self.problem)}[/b]")
        elif changed:
            parts.append("✔ valid · ctrl+g apply · ctrl+s save")
        self.query_one("#policy-state", Static).update(" · ".join(parts))
        self.set_class(bool(form.errors or self.problem), "-invalid")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return self.dirty and self.valid and self.session.live
        if action == "save":
            return self.valid
        if action == "revert":
            return self.dirty
        return True

    # actions --------------------------------------------------------------------------------
    def action_leave_field(self) -> None:
        self.set_focus(None)

    def action_revert(self) -> None:
        self.revert()
        self.notify("edits discarded", timeout=2)

    def action_apply(self) -> None:
        rt, snap = self.session.runtime, self.session.snapshot
        if rt is None or snap is None or not self.session.live:
            self.notify("the run is not running: save the policy instead", severity="warning")
            return
        values = self.query_one(PolicyForm).values()
        try:
            policy = edit.build(values, list(snap.info.models))
            doc = PolicyDocument(snap.policy_text, snap.policy_source)
            text = doc.edit(edit.changes(values, edit.current_values(snap.policy))).text
        except PolicyError as exc:
            self.notify(
                f"{exc}\nmodels can only be chosen among those loaded for this run"
                f" ({', '.join(snap.info.models)}); save it to use it in a new run",
                severity="error",
                timeout=8,
            )
            return
        rt.apply_policy(policy, text, "edited in the TUI")
        self.revert()
        self.post_message(PolicyApplied(policy))

    def action_save(self) -> None:
        from harmone_tui.ui.screens.modals import SaveAsModal

        values = self.query_one(PolicyForm).values()
        folder = paths.policies_dir(self.session.settings.data_dir)
        suggested = (
            values["name"]
            if (folder / f"{values['name']}.toml").exists()
            else f"{values['name']}-edited"
        )
        self.app.push_screen(SaveAsModal(suggested, folder), self._save_named)

    async def _save_named(self, name: str | None) -> None:
        if not name:
            return
        policy, source, text = self.running_policy()
        values = {**self.query_one(PolicyForm).values(), "name": name}
        try:
            path = user_policy_path(paths.policies_dir(self.session.settings.data_dir), name)
            doc = PolicyDocument(text, source).edit(
                edit.changes(values, edit.current_values(policy))
            )
            await asyncio.to_thread(doc.save, path, True)  # the modal showed "exists: overwrites"
        except PolicyError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"saved {path}\nuse it with: harmone --policy {name}", timeout=8)
        self.post_message(PolicySaved(str(path)))
