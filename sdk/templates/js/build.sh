#!/usr/bin/env bash
# Builds {{name}}.wasm with componentize-js (installed into node_modules).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[ -x node_modules/.bin/componentize-js ] || npm install --no-audit --no-fund --loglevel=error
npm run --silent build
echo "built {{name}}.wasm"
