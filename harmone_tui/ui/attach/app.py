"""The systems screen of a running `harmone serve`: one row per managed system, the selected
one's quality and energy sparklines, its events and tactic deliveries, and its policy as TOML
text that ctrl+s applies on the server (errors name line and key, as `harmone policy check`).

A worker polls the /v1 API once a second; the UI thread only copies the last answer into the
widgets, so a slow or unreachable server never blocks a key press.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Sparkline, Static, TextArea

from harmone_tui.event_text import number
from harmone_tui.ui.attach.client import ServeClient, Snapshot

POLL_S = 1.0
EVENTS_SHOWN = 200


def _b(key: str, action: str, description: str, verb: str, tooltip: str) -> Binding:
    return Binding(key, action, description, id=f"harmone.attach.{verb}", tooltip=tooltip)


class AttachApp(App[int]):
    """`harmone attach URL`."""

    CSS_PATH = "attach.tcss"
    TITLE = "HarmonE · serve"
    BINDINGS: ClassVar[list[Binding]] = [
        _b("q", "quit", "Quit", "quit", "Leave (the server keeps running)"),
        _b("e", "edit_policy", "Policy", "policy", "Edit the selected system's policy"),
        _b("ctrl+s", "apply_policy", "Apply", "apply", "Apply the edited policy on the server"),
        _b("escape", "close_policy", "Close", "close", "Close the policy editor"),
    ]

    def __init__(self, url: str, token: str | None = None, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.client = ServeClient(url, token)
        self.sub_title = url
        self.poll_s = poll_s
        self.selected: str | None = None
        self.snapshot = Snapshot()
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.editing: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="attach-status")
        yield DataTable(id="systems", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="detail"):
            with Vertical(id="charts"):
                yield Static("quality", id="quality-label", classes="label")
                yield Sparkline([], id="quality")
                yield Static("energy", id="energy-label", classes="label")
                yield Sparkline([], id="energy")
                yield Static("", id="events")
            with Vertical(id="side"):
                yield Static("tactic deliveries", classes="label")
                yield DataTable(id="deliveries", zebra_stripes=True)
                yield TextArea("", id="policy", language=None, show_line_numbers=True)
                yield Static("", id="policy-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#systems", DataTable)
        table.add_columns(
            "system", "api", "policy", "records", "model", "quality", "decision", "tactics p/d/f"
        )
        self.query_one("#deliveries", DataTable).add_columns(
            "id", "step", "tactic", "state", "tries", "answer"
        )
        self.query_one("#policy").display = False
        self.poll()
        self.set_interval(self.poll_s, self.poll)

    async def on_unmount(self) -> None:
        await self.client.close()

    # polling ------------------------------------------------------------------------------------
    @work(exclusive=True, group="poll")
    async def poll(self) -> None:
        sid = self.selected
        seen = self.events.get(sid or "", [])
        snap = await self.client.poll(sid, seen[-1]["id"] if seen else 0)
        self.show(snap)

    def show(self, snap: Snapshot) -> None:
        status = self.query_one("#attach-status", Static)
        if snap.error:
            status.update(f"[b]cannot reach the server[/b]: {snap.error}")
            return
        self.snapshot = snap
        status.update(f"{len(snap.systems)} systems · updated {time.strftime('%H:%M:%S')}")
        self._systems(snap.systems)
        sid = self.selected or (snap.systems[0]["system_id"] if snap.systems else None)
        if sid is None:
            return
        self.selected = sid
        log = self.events.setdefault(sid, [])
        log.extend(snap.events)
        del log[:-EVENTS_SHOWN]
        self._charts(snap.series)
        lines = [f"{e['step']:>8,}  {e['kind']:<15} {e['text']}" for e in log[-12:]]
        self.query_one("#events", Static).update("\n".join(lines) or "no events yet")
        self._deliveries(snap.deliveries)

    def _systems(self, systems: list[dict[str, Any]]) -> None:
        table = self.query_one("#systems", DataTable)
        for s in systems:
            st, c = s["status"], s["deliveries"]
            row = (
                s["system_id"],
                s["kind"],
                s["policy"],
                f"{s['records']:,}",
                str(st.get("active_model", "–")),
                number(st.get("quality")),
                str(st.get("decision") or "–"),
                f"{c.get('pending', 0)}/{c.get('delivered', 0)}/{c.get('failed', 0)}",
            )
            key = s["system_id"]
            if key in table.rows:
                for column, value in zip(table.columns, row, strict=True):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*row, key=key)

    def _charts(self, series: dict[str, Any]) -> None:
        points = series.get("points", [])
        quality = [p[1] for p in points if p[1] is not None]
        energy = [p[2] for p in points if p[2] is not None]
        self.query_one("#quality", Sparkline).data = quality
        self.query_one("#energy", Sparkline).data = energy
        last_q = number(quality[-1]) if quality else "–"
        last_e = number(energy[-1]) if energy else "–"
        self.query_one("#quality-label", Static).update(
            f"{series.get('quality_label') or 'quality'} {last_q}"
        )
        self.query_one("#energy-label", Static).update(
            f"{series.get('energy_label') or 'energy'} {last_e}"
        )

    def _deliveries(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#deliveries", DataTable)
        table.clear()
        for d in rows[:20]:
            answer = (d.get("answer") or "").replace("\n", " ")[:40]
            code = f"{d['http_status']} " if d.get("http_status") else ""
            table.add_row(
                str(d["id"]),
                f"{d['step']:,}",
                d["tactic_id"],
                d["state"],
                str(d["attempts"]),
                code + answer,
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "systems" and event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self.poll()

    # policy editing -----------------------------------------------------------------------------
    async def action_edit_policy(self) -> None:
        sid = self.selected
        system = next((s for s in self.snapshot.systems if s["system_id"] == sid), None)
        message = self.query_one("#policy-status", Static)
        if system is None or system["kind"] != "v1":
            message.update("only /v1 systems have a TOML policy (Harmonica's: POST /api/policy)")
            return
        editor = self.query_one("#policy", TextArea)
        editor.text = await self.client.policy(system["system_id"])
        editor.display = True
        editor.focus()
        self.editing = system["system_id"]
        message.update(f"editing {self.editing}'s policy: ctrl+s applies, esc closes")

    async def action_apply_policy(self) -> None:
        if self.editing is None:
            return
        text = self.query_one("#policy", TextArea).text
        problem = await self.client.put_policy(self.editing, text)
        message = self.query_one("#policy-status", Static)
        if problem:
            message.update(f"[b]not applied[/b]: {problem}")
        else:
            message.update(f"applied on the server: in force at {self.editing}'s next cycle")
            self.notify(f"policy of {self.editing} applied")

    def action_close_policy(self) -> None:
        self.query_one("#policy").display = False
        self.editing = None
        self.query_one("#systems").focus()
