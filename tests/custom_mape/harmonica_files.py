"""Harmonica-style custom MAPE files, written from the seed's contract (seeds/001, "Building a
Custom Managed System"): the template files as the guide prints them, and variants that break.

They are kept as text (not as modules of this repository: they import each other by bare name,
``from monitor import monitor_mape``, as they do in Harmonica's ``mape_logic/``) and written to a
test's directory by :func:`write_folder`.
"""

from __future__ import annotations

from pathlib import Path

MONITOR = """\
import pandas as pd
import os
import json

# Define paths relative to this script
BASE_DIR = os.path.dirname(os.path.abspath(__file__))
KNOWLEDGE_DIR = os.path.join(BASE_DIR, "..", "knowledge")
PREDICTIONS_FILE = os.path.join(KNOWLEDGE_DIR, "predictions.csv")
MODEL_FILE = os.path.join(KNOWLEDGE_DIR, "model.csv")

def get_current_model():
    try:
        with open(MODEL_FILE, "r") as f:
            return f.read().strip()
    except:
        return "unknown"

def monitor_mape():
    current_model = get_current_model()
    metrics = {
        "score": 0.8,
        "normalized_energy": 0.3,
        "model_used": current_model,
        "r2_score": 0.9,
        "confidence": 0.85
    }
    if os.path.exists(PREDICTIONS_FILE):
        try:
            df = pd.read_csv(PREDICTIONS_FILE)
            if not df.empty:
                df = df.tail(10)
                if "svm" in current_model or "yolo_n" in current_model:
                    metrics["score"] = 0.65 # trigger adaptation
                else:
                    metrics["score"] = 0.95
                metrics["rows"] = int(len(pd.read_csv(PREDICTIONS_FILE)))
        except Exception as e:
            print(f"[CustomMonitor] Error reading predictions: {e}")
    print(f"[CustomMonitor] Reporting: {metrics}")
    return metrics

def monitor_drift():
    return {"kl_div": 0.05}
"""

ANALYSE = """\
from monitor import monitor_mape

def analyse_mape():
    data = monitor_mape()
    if not data:
        return None
    if data["score"] < 0.7:
        print("[CustomAnalyse] Score is low! Switch needed.")
        return {"switch_needed": True}
    print("[CustomAnalyse] System healthy.")
    return {"switch_needed": False}

def analyse_drift():
    return {"drift_detected": False}
"""

PLAN = """\
import random
import os

def plan_mape(trigger="local"):
    options = ["lstm", "svm", "linear"]
    choice = random.choice(options)
    print(f"[CustomPlan] Planner selected: {choice}")
    return choice

def plan_drift(trigger="local"):
    return None
"""

EXECUTE = """\
import os
import sys

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
KNOWLEDGE_DIR = os.path.join(BASE_DIR, "..", "knowledge")
MODEL_FILE = os.path.join(KNOWLEDGE_DIR, "model.csv")

def execute_mape(trigger="local"):
    from plan import plan_mape
    decision = plan_mape(trigger)
    if not decision:
        return
    print(f"[CustomExecute] Writing '{decision}' to model.csv")
    os.makedirs(KNOWLEDGE_DIR, exist_ok=True)
    with open(MODEL_FILE, "w") as f:
        f.write(decision)

def execute_drift(trigger="local"):
    pass
"""

MANAGE = """\
import time
import sys
import logging
from execute import execute_mape

logging.basicConfig(level=logging.INFO, format='[CustomManage] %(message)s')

def run_mape_loop():
    logging.info("Starting Custom MAPE Loop...")
    while True:
        time.sleep(5)
        logging.info("--- Triggering MAPE Cycle ---")
        execute_mape(trigger="local")

if __name__ == "__main__":
    run_mape_loop()
"""

TEMPLATE = {
    "monitor.py": MONITOR,
    "analyse.py": ANALYSE,
    "plan.py": PLAN,
    "execute.py": EXECUTE,
    "manage.py": MANAGE,
}

# plan variants: each replaces plan.py of the template
PLAN_RAISES = """\
def plan_mape(trigger="local"):
    thresholds = {}
    return thresholds["min_score"]
"""

PLAN_HANGS = """\
import time

def plan_mape(trigger="local"):
    while True:
        time.sleep(0.05)
"""

PLAN_FLOODS = """\
def plan_mape(trigger="local"):
    for i in range(40000):
        print("flood " * 10, i)
    return "linear"
"""

PLAN_WRONG_MODEL = """\
def plan_mape(trigger="local"):
    return "resnet50"
"""

PLAN_CRASHES = """\
import os

def plan_mape(trigger="local"):
    os._exit(9)
"""

# Harmonica's own files measure their energy with pyRAPL, set up at import
PYRAPL_EXECUTE = """\
import pyRAPL

pyRAPL.setup()
METER = pyRAPL.Measurement("mape")
""" + EXECUTE.replace(
    "    decision = plan_mape(trigger)\n",
    "    METER.begin()\n    decision = plan_mape(trigger)\n    METER.end()\n"
    "    print('[CustomExecute] energy uJ', METER.result.pkg[0])\n",
)


def write_folder(folder: Path, **replace: str) -> Path:
    """The template in ``folder``, with files replaced (``plan="..."``; ``manage=None``-like
    removal by passing an empty string)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TEMPLATE.items():
        text = replace.get(name.removesuffix(".py"), text)
        if text:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


# a plan that works and switches: it asks analyse (which asks monitor, by bare import), then
# toggles between the two models of the test policy
PLAN_TOGGLE = """\
import os
from analyse import analyse_mape

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_FILE = os.path.join(HERE, "..", "knowledge", "model.csv")

def plan_mape(trigger="local"):
    verdict = analyse_mape()
    with open(MODEL_FILE) as f:
        current = f.read().strip()
    choice = "svm" if current == "linear" else "linear"
    print(f"[TogglePlan] {trigger}: {verdict} on {current} -> {choice}")
    return choice
"""

EXECUTE_ON_DRIFT = EXECUTE.replace(
    'def execute_drift(trigger="local"):\n    pass\n',
    'def execute_drift(trigger="local"):\n'
    '    print(f"[CustomExecute] drift {trigger}: svm")\n'
    '    with open(MODEL_FILE, "w") as f:\n'
    '        f.write("svm")\n',
)


# HarmonE-style files (seeds/001 and shared/harmonica.md §1.7): the monitor keeps its read pointer
# and EMA scores in mape_info.json, reads thresholds.json, the plan picks the best alternative by
# EMA, execute measures itself with Harmonica's newer `import energy_utils as pyRAPL`
HARMONE_MONITOR = """\
import json, os
import numpy as np
import pandas as pd

K = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knowledge")

def load(name):
    with open(os.path.join(K, name)) as f:
        return json.load(f)

def monitor_mape():
    info, th = load("mape_info.json"), load("thresholds.json")
    with open(os.path.join(K, "model.csv")) as f:
        model = f.read().strip()
    df = pd.read_csv(os.path.join(K, "predictions.csv"), skiprows=range(1, info["last_line"] + 1))
    if df.empty:
        return {"score": info["ema_scores"][model], "model_used": model}
    t, p = df["true_value"].to_numpy(), df["predicted_value"].to_numpy()
    r2 = 1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)
    e = (df["energy"].mean() - th["E_m"]) / (th["E_M"] - th["E_m"])
    e = min(1.0, max(0.0, e))
    s = th["beta"] * r2 + (1 - th["beta"]) * (1 - e)
    ema = th["gamma"] * s + (1 - th["gamma"]) * info["ema_scores"][model]
    info["ema_scores"][model] = ema
    info["last_line"] += len(df)
    with open(os.path.join(K, "mape_info.json"), "w") as f:
        json.dump(info, f, indent=4)
    return {"r2_score": round(r2, 4), "normalized_energy": round(e, 4), "score": round(ema, 4),
            "model_used": model}

def monitor_drift():
    return {"kl_div": 0.0}
"""

HARMONE_ANALYSE = """\
import json, os
from monitor import monitor_mape

K = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knowledge")

def analyse_mape():
    data = monitor_mape()
    with open(os.path.join(K, "thresholds.json")) as f:
        th = json.load(f)
    return {"switch_needed": data["score"] < th["min_score"]}
"""

HARMONE_PLAN = """\
import json, os
from analyse import analyse_mape

K = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knowledge")

def plan_mape(trigger="local"):
    if trigger == "local" and not analyse_mape()["switch_needed"]:
        return None
    with open(os.path.join(K, "mape_info.json")) as f:
        ema = json.load(f)["ema_scores"]
    with open(os.path.join(K, "model.csv")) as f:
        current = f.read().strip()
    ranked = sorted(ema.items(), key=lambda kv: kv[1], reverse=True)
    return next((m for m, _ in ranked if m != current), None)
"""

HARMONE_EXECUTE = """\
import os, sys
BASE_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(BASE_DIR, "..", ".."))
import energy_utils as pyRAPL
from plan import plan_mape

pyRAPL.setup()
MODEL_FILE = os.path.join(BASE_DIR, "..", "knowledge", "model.csv")

def execute_mape(trigger="local"):
    meter = pyRAPL.Measurement("mape_k_execution")
    meter.begin()
    decision = plan_mape(trigger=trigger)
    meter.end()
    print("[HarmonE] energy", meter.result.pkg[0], "decision", decision)
    if decision:
        with open(MODEL_FILE, "w") as f:
            f.write(decision)

def execute_drift(trigger="local"):
    print("[HarmonE] drift trigger", trigger)
"""

HARMONE_STYLE = {
    "monitor": HARMONE_MONITOR,
    "analyse": HARMONE_ANALYSE,
    "plan": HARMONE_PLAN,
    "execute": HARMONE_EXECUTE,
}

# the template's random plan over the two models of the test policy
PLAN_RANDOM = PLAN.replace('["lstm", "svm", "linear"]', '["svm", "linear"]')
