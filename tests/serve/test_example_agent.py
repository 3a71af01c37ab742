"""Item 7: the example agent manages a real scikit-learn pipeline end to end."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

from tests.conftest import REPO
from tests.serve.helpers import running


def load(name: str) -> ModuleType:
    path = REPO / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_agent_switches_a_real_model_when_the_server_says_so(tmp_path: Path) -> None:
    agent_mod, demo = load("harmone_agent"), load("sklearn_pipeline")
    x_train, y_train = demo.windows(demo.flows("flow_train.csv"))
    models = {
        "mean": DummyRegressor().fit(x_train, y_train),
        "ridge": Ridge(alpha=1.0).fit(x_train, y_train),
    }
    x_stream, y_stream = demo.windows(demo.flows("pems_stream.csv"))
    with running(tmp_path) as server, server.client() as http:
        agent = agent_mod.Agent(server.url, "traffic", models, policy=demo.POLICY, batch=10)
        agent.start(sample=x_stream[0])
        reported = ""
        for step, (x, y) in enumerate(zip(x_stream, y_stream, strict=True)):
            agent.predict(x)
            agent.observe(y)
            time.sleep(0.002)
            if step % 50 == 49:
                agent.flush()
                reported = http.get("/v1/systems/traffic").json()["status"]["active_model"]
                if reported == "ridge" or step > 3000:
                    break
        agent.close()
        state = http.get("/v1/systems/traffic").json()
        events = http.get("/v1/systems/traffic/events").json()
        deliveries = http.get("/v1/systems/traffic/deliveries").json()
    assert reported == "ridge" and agent.active == "ridge"
    assert agent.tactics[0]["tactic_id"] == "switch_model" and agent.tactics[0]["model"] == "ridge"
    assert events[0]["kind"] == "switch" and "mean→ridge" in events[0]["text"]
    assert deliveries[-1]["state"] == "delivered"
    assert set(state["status"]["energy_profile_uj"]) == {"mean", "ridge"}
    assert state["records"] == step + 1 and not agent.errors
