#!/usr/bin/env bash
# Sets up whatever is missing, builds allsync and every adapter, then runs
# the benchmarks and prints their table (figure, median, min, max, ratio vs
# baseline). Takes a few minutes; everything runs against loopback fakes.
# Name sections to run only those: memory start boundary diff http jobs budget.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup
say "running the benchmarks (progress on stderr, the table on stdout)"
cargo bench --manifest-path "$ROOT/Cargo.toml" --workspace --bench allsync --profile dev -- "$@"
