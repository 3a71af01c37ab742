"""Building the regression engine from files (or the bundled sample stream)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engines.regression.data import DEFAULT_GAPS, read_stream
from engines.regression.engine import RegressionEngine
from engines.regression.training import WINDOW, check_training_values

SAMPLE_STREAM = "pems_stream.csv"
# What a run without --data streams: the "recurring" scenario (speed read as flow for six days,
# twice), so a first run sees a drift hurt the model and the loop retrain, then keep the new
# version when the regime returns (sample_data/README.md). The tests keep SAMPLE_STREAM's regimes.
DEFAULT_STREAM = "scenarios/recurring.csv"
SAMPLE_TRAIN = "flow_train.csv"


def bundled(name: str) -> Path:
    return Path(str(resources.files("sample_data") / name))


def create_regression_engine(
    data: Path | None,
    column: str = "flow",
    train: Path | None = None,
    train_column: str = "flow",
    gaps: str = DEFAULT_GAPS,
) -> RegressionEngine:
    """The engine over ``data`` (``gaps``: what to do with empty cells, in both files).

    The training file is checked here, before anything is trained or stored, so that values a
    model cannot learn from are one line naming the file, not a worker's traceback.
    """
    stream_path = Path(data) if data is not None else bundled(DEFAULT_STREAM)
    train_path = Path(train) if train is not None else bundled(SAMPLE_TRAIN)
    stream, stream_read = read_stream(stream_path, column, WINDOW + 1, gaps)
    training, train_read = read_stream(train_path, train_column, WINDOW + 20, gaps)
    check_training_values(training, f"{train_path}, column {train_column!r}")
    engine = RegressionEngine(stream, training, source=str(stream_path))
    engine.data_read = {"stream": stream_read.to_dict(), "train": train_read.to_dict()}
    notes = (stream_read.note(stream_path, column), train_read.note(train_path, train_column))
    engine.data_notes = [note for note in notes if note]
    return engine
