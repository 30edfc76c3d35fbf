#!/usr/bin/env bash
# Installs the libtorch that burn's LibTorch backend (cargo feature `tch`)
# links: PyTorch 2.9.0 from PyPI, the version torch-sys 0.22 is built for
# (TORCH_VERSION in its build.rs), into a virtual environment (.venv-tch),
# with numpy for examples/numpy_step.py. Nothing is downloaded from outside
# PyPI: torch-sys finds the headers and libraries inside the wheel.
#
#   bash scripts/setup-libtorch.sh            # install (idempotent)
#   source scripts/setup-libtorch.sh --env    # then export what torch-sys needs
#
# The wheel on PyPI is PyTorch's CUDA build (about 900 MB, and its NVIDIA
# runtime wheels about 3 GB more): torch-sys links libtorch_cuda.so whenever
# the wheel has it, so those libraries must be installed even on a machine
# without a GPU. `--backend tch` is libtorch's CPU device.
TORCH_VERSION=2.9.0
VENV="${TCH_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-tch}"

tch_env() {
  # torch-sys: take libtorch from this Python's torch, not a download.
  export LIBTORCH_USE_PYTORCH=1
  export PATH="$VENV/bin:$PATH"
  local lib
  lib="$("$VENV/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')" || return 1
  # The test binaries find libtorch*.so at run time here.
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

if [[ "${1:-}" == "--env" ]]; then
  [[ -x "$VENV/bin/python" ]] || { echo "no $VENV: run bash scripts/setup-libtorch.sh first" >&2; return 1 2>/dev/null || exit 1; }
  tch_env
  return 0 2>/dev/null || exit 0
fi

set -euo pipefail
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "installing PyTorch $TORCH_VERSION and numpy into $VENV (6.8 GB installed, from PyPI)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "torch==$TORCH_VERSION" numpy
fi
"$VENV/bin/python" -c "import torch, numpy; print('PyTorch', torch.__version__, '· numpy', numpy.__version__, '· in $VENV')"
