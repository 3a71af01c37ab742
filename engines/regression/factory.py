"""Building the regression engine from files (or the bundled sample stream)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engines.regression.data import read_series
from engines.regression.engine import RegressionEngine
from engines.regression.training import WINDOW

SAMPLE_STREAM = "pems_stream.csv"
SAMPLE_TRAIN = "flow_train.csv"


def bundled(name: str) -> Path:
    return Path(str(resources.files("sample_data") / name))


def create_regression_engine(
    data: Path | None, column: str = "flow", train: Path | None = None, train_column: str = "flow"
) -> RegressionEngine:
    stream_path = Path(data) if data is not None else bundled(SAMPLE_STREAM)
    train_path = Path(train) if train is not None else bundled(SAMPLE_TRAIN)
    stream = read_series(stream_path, column, min_rows=WINDOW + 1)
    training = read_series(train_path, train_column, min_rows=WINDOW + 20)
    return RegressionEngine(stream, training, source=str(stream_path))
