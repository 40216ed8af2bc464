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

say "testing the adapters and the SDK (natively)"
cargo test --manifest-path "$ROOT/plugins/Cargo.toml" --workspace

say "testing the host and end to end"
cargo test --manifest-path "$ROOT/Cargo.toml" --workspace
