"""Safe by default: localhost, a token for anything else, size limits, 4xx naming the field."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from harmone_tui.cli import main
from harmone_tui.serve.config import ServeError
from tests.serve.helpers import running
from tests.serve.streams import POLICY

TOKEN = "s3cret-token-of-32-characters-ok"


def test_a_non_local_bind_without_a_token_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--host 0.0.0.0" in err and "--token-file" in err
    assert not (tmp_path / "knowledge.sqlite3").exists()


def test_a_short_token_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token"
    token.write_text("abc\n")
    code = main(["serve", "--host", "0.0.0.0", "--token-file", str(token), "--port", "0"])
    assert code == 2
    assert f"--token-file {token}: the token must be at least 16" in capsys.readouterr().err


def test_without_the_extra_one_line_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_uvicorn(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvicorn":
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'serve' extra" in err and "harmone-tui[serve]" in err


def test_a_token_once_set_is_required(tmp_path: Path) -> None:
    with running(tmp_path, token=TOKEN) as server, server.client() as http:
        refused = http.post("/api/telemetry", json={"score": 1})
        assert refused.status_code == 401 and "Bearer" in refused.json()["error"]
        assert http.get("/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = http.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["status"] == "ok"


def test_cors_is_off_unless_asked_for(tmp_path: Path) -> None:
    preflight = {"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"}
    with running(tmp_path) as server, server.client() as http:
        answer = http.options("/api/telemetry", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    with (
        running(tmp_path, cors_origins=("http://localhost:8000",)) as server,
        server.client() as http,
    ):
        answer = http.options("/api/telemetry", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "http://localhost:8000"


def test_bodies_over_the_limit_are_refused(tmp_path: Path) -> None:
    big = {"records": [{"prediction": 1.0, "model": "ridge"}] * 200}
    with running(tmp_path, max_body_bytes=2_000) as server, server.client() as http:
        http.put("/v1/systems/s", json={"preset": "switch"})
        answer = http.post("/v1/systems/s/telemetry", json=big)
        assert answer.status_code == 413 and answer.json()["error"].startswith("body: ")

        def chunks() -> Any:  # no Content-Length: counted while read
            yield b'{"records": ['
            for _ in range(300):
                yield b'{"prediction": 1.0, "model": "lstm"},'
            yield b'{"prediction": 1.0, "model": "lstm"}]}'

        streamed = http.post(
            "/v1/systems/s/telemetry",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        assert http.get("/v1/systems/s").json()["records"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        (
            "POST",
            "/v1/systems/s/telemetry",
            {"records": [{"model": "ridge"}]},
            422,
            "records[0].prediction",
        ),
        (
            "POST",
            "/v1/systems/s/telemetry",
            {"records": [{"prediction": 1, "model": "x"}]},
            422,
            "records[0].model",
        ),
        ("POST", "/v1/systems/s/telemetry", {"records": []}, 422, "records"),
        (
            "POST",
            "/v1/systems/s/telemetry",
            {"records": [{"prediction": 1, "model": "ridge", "energy_uj": -1}]},
            422,
            "records[0].energy_uj",
        ),
        (
            "POST",
            "/v1/systems/nobody/telemetry",
            {"records": [{"prediction": 1, "model": "ridge"}]},
            404,
            "system_id",
        ),
        ("PUT", "/v1/systems/t", {"preset": "no-such"}, 422, "preset"),
        ("PUT", "/v1/systems/t", {"preset": "switch", "endpoint": "ftp://x"}, 422, "endpoint"),
        ("PUT", "/v1/systems/bad id", {"preset": "switch"}, 422, "system_id"),
        (
            "POST",
            "/api/policy",
            {
                "policy_id": "p",
                "quality_attribute": "score",
                "adaptation_boundary": {"condition": "LESS", "threshold": 1},
            },
            422,
            "adaptation_boundary.condition",
        ),
        (
            "POST",
            "/api/policy",
            {
                "policy_id": "p",
                "quality_attribute": "score",
                "adaptation_boundary": {
                    "condition": "LESS_THAN",
                    "threshold": 1,
                    "dynamic_logic": "max * 2",
                },
            },
            422,
            "adaptation_boundary.dynamic_logic",
        ),
        ("POST", "/api/telemetry", [1, 2], 422, "body"),
        ("POST", "/api/telemetry", {"score": 1, "system_id": 7}, 422, "system_id"),
        ("GET", "/api/knowledge/nope", None, 404, "policy_id"),
    ],
)
def test_bad_requests_get_4xx_naming_the_field(
    tmp_path: Path, method: str, path: str, body: Any, status: int, field: str
) -> None:
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/s", json={"policy": POLICY})
        answer = http.request(method, path, json=body)
        assert answer.status_code == status, answer.text
        assert answer.json()["field"] == field, answer.text
        assert answer.json()["error"].startswith(field)
        assert http.get("/v1/systems/s").json()["records"] == 0


def test_not_json_is_400(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client() as http:
        answer = http.post(
            "/api/telemetry", content=b"{oops", headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400 and answer.json()["field"] == "body"


def test_one_server_per_data_dir(tmp_path: Path) -> None:
    with running(tmp_path), pytest.raises(ServeError, match="already running"), running(tmp_path):
        pass
