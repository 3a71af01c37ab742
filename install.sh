#!/usr/bin/env bash
# Install harmone-tui with everything the bundled demo and the tests use, into .venv (or $VENV).
# Idempotent: re-running updates the install. Removes triton after torch: with triton present,
# importing TensorFlow and torch in one process crashes.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[all]'
"$VENV/bin/python" -m pip uninstall --quiet -y triton 2>/dev/null || true
echo "harmone-tui installed in $VENV: run $VENV/bin/harmone" >&2
