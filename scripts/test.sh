#!/usr/bin/env bash
# Sets up whatever is missing, builds allsync and every adapter, checks
# formatting and lints, then runs every test: the host's unit tests, the
# adapters' and SDK's unit tests, and the end-to-end tests in tests/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup

say "checking formatting and lints"
cargo fmt --manifest-path "$ROOT/Cargo.toml" --all --check
cargo fmt --manifest-path "$ROOT/plugins/Cargo.toml" --all --check
cargo clippy --manifest-path "$ROOT/Cargo.toml" --workspace --all-targets -- -D warnings
cargo clippy --manifest-path "$ROOT/plugins/Cargo.toml" --workspace --all-targets -- -D warnings

check_c_bindings
browser_toolchain

say "testing the adapters and the SDKs (natively)"
cargo test --manifest-path "$ROOT/plugins/Cargo.toml" --workspace
# -B keeps __pycache__ out of sdk/python, which componentize-py bundles.
python3 -B -m unittest discover -s "$ROOT/sdk/python"
node --test "$ROOT/sdk/js/allsync-sdk.test.js"

say "testing the host and end to end"
cargo test --manifest-path "$ROOT/Cargo.toml" --workspace
