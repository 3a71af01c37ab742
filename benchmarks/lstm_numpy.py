"""The LSTM as a numpy forward pass: the fast-path candidate ONNX Runtime was measured against.

Not used by the app (``engines/regression/lstm_onnx.py`` says why: about 31 µs a call here
against ONNX Runtime's 15 µs); kept so ``benchmarks/model_paths.py`` can show both, measured in
the same run. float64 throughout (Keras computes in float32; float64 lands closer to it, 5e-7
relative against 6e-7). The input projection for all steps is one outer product with the
scaler folded in; ``sigmoid(z) = (tanh(z / 2) + 1) / 2`` with the halves folded into the
weights, so each step is one tanh over all four gates.
"""

from __future__ import annotations

import numpy as np

from engines.regression.lstm_onnx import LstmWeights


class NumpyLstm:
    """One LSTM version, with its scaler, as numpy operations on preallocated buffers."""

    def __init__(self, w: LstmWeights, low: float, span: float) -> None:
        units = w.recurrent.shape[0]
        half = np.full(4 * units, 0.5)
        half[2 * units : 3 * units] = 1.0  # Keras' gate order i, f, c, o; c is the tanh gate
        order = np.r_[2 * units : 3 * units, units : 2 * units, 0:units, 3 * units : 4 * units]
        kernel = (w.kernel[0].astype(np.float64) * half)[order] / span  # gates c, f, i, o
        self.kernel = kernel
        self.bias = (w.bias.astype(np.float64) * half)[order] - low * kernel
        self.recurrent = (w.recurrent.astype(np.float64) * half)[:, order]
        self.dense = w.dense[:, 0].astype(np.float64) * span
        self.dense_bias = float(w.dense_bias[0]) * span + low
        self.units = units
        self.z = np.empty(4 * units)
        self.s = np.empty(3 * units)
        self.p = np.empty(units)
        self.h = np.empty(units)
        self.c = np.empty(units)
        self.xp = np.empty((w.window, 4 * units))

    def predict(self, x: np.ndarray) -> float:
        u, z, s, p, h, c, xp = self.units, self.z, self.s, self.p, self.h, self.c, self.xp
        np.multiply.outer(x, self.kernel, out=xp)
        xp += self.bias
        np.tanh(xp[0], out=z)  # step 0: h = c = 0
        np.multiply(z[u:], 0.5, out=s)
        s += 0.5  # sigmoid of the f, i, o gates
        np.multiply(s[u : 2 * u], z[:u], out=c)
        np.tanh(c, out=h)
        h *= s[2 * u :]
        for t in range(1, len(xp)):
            np.dot(h, self.recurrent, out=z)
            z += xp[t]
            np.tanh(z, out=z)
            np.multiply(z[u:], 0.5, out=s)
            s += 0.5
            c *= s[:u]
            np.multiply(s[u : 2 * u], z[:u], out=p)
            c += p
            np.tanh(c, out=h)
            h *= s[2 * u :]
        return float(h @ self.dense) + self.dense_bias
