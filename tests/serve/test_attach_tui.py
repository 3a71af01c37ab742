"""Item 6: `harmone attach` lists a live server's systems and edits a policy on the server."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Sparkline, Static, TextArea

from harmone_tui.ui.attach.app import AttachApp
from tests.serve.helpers import running
from tests.serve.streams import POLICY, records
from tests.serve.test_v1_api import post_all
from tests.ui.conftest import wait_for


async def test_systems_screen_shows_systems_and_applies_a_policy(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/line-7", json={"policy": POLICY})
        post_all(http, "line-7", records(600), 11)
        app = AttachApp(server.url, poll_s=0.2)
        async with app.run_test(size=(140, 44)) as pilot:
            table = app.query_one("#systems", DataTable)
            await wait_for(pilot, lambda: table.row_count == 1)
            row = table.get_row("line-7")
            assert row[0] == "line-7" and row[3] == "600" and row[4] == "ridge"
            await wait_for(pilot, lambda: len(app.query_one("#quality", Sparkline).data) == 12)
            assert "switch" in str(app.query_one("#events", Static).render())
            await pilot.press("e")
            editor = app.query_one("#policy", TextArea)
            await wait_for(pilot, lambda: editor.display and "min_score" in editor.text)
            editor.text = editor.text.replace("min_score = 0.5", "min_score = 7")
            await pilot.press("ctrl+s")
            status = app.query_one("#policy-status", Static)
            await wait_for(pilot, lambda: "not applied" in str(status.render()))
            assert "policy:14: switch.min_score: must be <= 1.0, got 7" in str(status.render())
            editor.text = editor.text.replace("min_score = 7", "min_score = 0.55")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "applied on the server" in str(status.render()))
        events = http.get("/v1/systems/line-7/events").json()
        assert events[-1]["kind"] == "policy_changed"
        assert "min_score = 0.55" in http.get("/v1/systems/line-7/policy").json()["toml"]
