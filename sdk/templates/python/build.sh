#!/usr/bin/env bash
# Builds {{name}}.wasm with componentize-py (installed into .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[ -x .venv/bin/componentize-py ] || { python3 -m venv .venv && .venv/bin/pip install -q componentize-py==0.25.1; }
.venv/bin/componentize-py -d wit -w plugin componentize app -p . -o {{name}}.wasm
echo "built {{name}}.wasm"
