"""The LSTM's fast serving path: its Keras weights run by ONNX Runtime's LSTM operator.

Measured here for the bundled 32-unit network over 5 steps (benchmarks/model_paths.py): the
XLA-compiled ``tf.function`` costs about 300 µs of CPU a call, a numpy forward pass (input
projection in one product, then five recurrent steps) about 31 µs, ONNX Runtime about 15 µs,
nearly all of it the session's fixed cost per run. Both agree with the Keras call within 1e-6
relative on the training data (ORT 4e-7, numpy 5e-7: Keras computes in float32 and so does the
operator), so ONNX Runtime is the fast path.

The ONNX graph is built in memory at load time from the model Keras loaded in safe mode (LSTM,
then a Gemm for the Dense layer): no file is written, nothing else is trusted. The session runs
on one thread, the caller's, so the thread CPU clock the runtime charges sees all of its work,
and results are deterministic. Inputs are scaled and clipped exactly as on the framework path.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import EngineError
from engines.regression.lstm import SCALED_LIMIT, read_keras

OPSET = 17
IR_VERSION = 8  # the oldest that opset 17 allows: any ONNX Runtime from 1.14 reads it
REQUIRED = ("onnx", "onnxruntime")
KERAS_LSTM = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "use_bias": True,
    "return_sequences": False,
    "return_state": False,
    "go_backwards": False,
    "stateful": False,
}


def onnx_missing() -> list[str]:
    """The packages of the fast LSTM path that are not installed."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


@dataclass(frozen=True)
class LstmWeights:
    """The network ``fit_lstm`` builds, LSTM(units) then Dense(1); gates in Keras' order i, f,
    c, o."""

    kernel: np.ndarray  # (1, 4 units)
    recurrent: np.ndarray  # (units, 4 units)
    bias: np.ndarray  # (4 units,)
    dense: np.ndarray  # (units, 1)
    dense_bias: np.ndarray  # (1,)
    window: int


def network_weights(model: Any, path: Path) -> LstmWeights:
    """The weights of ``model`` (read from ``path``), or EngineError when it is another network:
    the fast path would otherwise compute something else than the model."""

    def refuse(what: str) -> EngineError:
        return EngineError(
            f"{path}: {what}: not the LSTM -> Dense(1) network this app trains, so it has no"
            f' fast path; set serving = "framework" in the policy to run it through Keras'
        )

    kinds = [type(layer).__name__ for layer in model.layers]
    if kinds != ["LSTM", "Dense"]:
        raise refuse(f"layers {', '.join(kinds) or 'none'}")
    lstm, dense = model.layers
    config = lstm.get_config()
    for key, wanted in KERAS_LSTM.items():
        if config.get(key) != wanted:
            raise refuse(f"LSTM {key} = {config.get(key)!r}")
    dense_config = dense.get_config()
    if dense_config.get("units") != 1 or dense_config.get("activation") != "linear":
        raise refuse("the Dense layer is not one linear output")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 3 or shape[2] != 1 or not shape[1]:
        raise refuse(f"input shape {shape}")
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float32) for w in lstm.get_weights())
    weights, dense_bias = (np.asarray(w, dtype=np.float32) for w in dense.get_weights())
    return LstmWeights(kernel, recurrent, bias, weights, dense_bias, int(shape[1]))


def _iofc(gates: np.ndarray, axis: int) -> np.ndarray:
    """Keras' gate blocks (i, f, c, o) in ONNX's order (i, o, f, c)."""
    i, f, c, o = np.split(gates, 4, axis=axis)
    return np.concatenate([i, o, f, c], axis=axis)


def onnx_model(w: LstmWeights) -> bytes:
    """A serialised ONNX model: X (window, 1, 1) -> LSTM -> Gemm -> y (1, 1), all float32."""
    from onnx import TensorProto, helper, numpy_helper

    units = w.recurrent.shape[0]
    onnx_bias = np.concatenate([_iofc(w.bias, 0), np.zeros(4 * units, np.float32)])
    tensors = {
        "W": _iofc(w.kernel, 1).T[None],  # (1, 4 units, 1)
        "R": _iofc(w.recurrent, 1).T[None],  # (1, 4 units, units)
        "B": onnx_bias[None],  # (1, 8 units): input then recurrent biases
        "shape": np.array([1, units], dtype=np.int64),
        "dense": w.dense,
        "dense_bias": w.dense_bias,
    }
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["", "h_last"], hidden_size=units),
        helper.make_node("Reshape", ["h_last", "shape"], ["h"]),
        helper.make_node("Gemm", ["h", "dense", "dense_bias"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "harmone_lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [w.window, 1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        [numpy_helper.from_array(np.ascontiguousarray(a), name) for name, a in tensors.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    return bytes(model.SerializeToString())


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # computed on the caller's thread: the clock we charge
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


@dataclass
class OnnxLstm:
    """A loaded LSTM version on ONNX Runtime, with its version's scaler.

    Input and output are numpy buffers bound to the session once, so a call writes the scaled
    window in place, runs, and reads one float: no per-call allocation or dict of inputs.
    """

    name: str
    version: int
    weights: LstmWeights
    low: float
    span: float
    serving: str = "fast"
    _state: tuple[Any, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import onnxruntime as ort

        session = _session(onnx_model(self.weights))
        x = np.zeros((self.weights.window, 1, 1), dtype=np.float32)
        y = np.zeros((1, 1), dtype=np.float32)
        binding = session.io_binding()
        binding.bind_ortvalue_input("x", ort.OrtValue.ortvalue_from_numpy(x))
        binding.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_numpy(y))
        scaled = np.empty(self.weights.window)
        self._state = (session.run_with_iobinding, binding, scaled, x.reshape(-1), y)
        self.predict(scaled)  # the first run allocates; do it now, not on the first timed step

    def predict(self, x: np.ndarray) -> float:
        run, binding, scaled, model_input, y = self._state
        np.subtract(x, self.low, out=scaled)
        scaled /= self.span
        # Clipped to ±SCALED_LIMIT on the way into float32, as on the framework path.
        np.clip(scaled, -SCALED_LIMIT, SCALED_LIMIT, out=model_input)
        run(binding)
        return float(y[0, 0]) * self.span + self.low


def load_onnx_lstm(version: int, version_dir: Path, low: float, span: float) -> OnnxLstm:
    """A stored LSTM version on the fast path; EngineError naming the file if it cannot be."""
    path, _, model = read_keras(version_dir)
    weights = network_weights(model, path)
    try:
        return OnnxLstm("lstm", version, weights, low, span)
    except Exception as exc:  # noqa: BLE001 - e.g. weights of the wrong shapes for the operator
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"{path}: ONNX Runtime cannot run this LSTM ({text})") from None
