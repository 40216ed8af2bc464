#!/usr/bin/env bash
# Builds {{name}}.wasm and runs the allsync conformance kit on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./build.sh
"${ALLSYNC:-allsync}" test-adapter {{name}}.wasm --config things=ada@example.com,bob@example.com
