#!/usr/bin/env bash
# Sets up whatever is missing, builds allsync and its adapters, then runs the
# demo: plan, then sync, examples/demo/people.txt into team.txt. It works on
# a scratch copy in target/demo, so it can be run again and again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup

demo="$ROOT/target/demo"
rm -rf "$demo" && mkdir -p "$demo" && cp "$ROOT"/examples/demo/* "$demo/"
allsync=("$ROOT/target/debug/allsync" --plugins-dir "$ROOT/plugins")

say "team.txt before"
cat "$demo/team.txt"
say "allsync plan -c examples/demo/allsync.toml"
"${allsync[@]}" plan -c "$demo/allsync.toml"
say "allsync sync -c examples/demo/allsync.toml"
"${allsync[@]}" sync -c "$demo/allsync.toml"
say "team.txt after"
cat "$demo/team.txt"
say "allsync plan again: nothing left to do"
"${allsync[@]}" plan -c "$demo/allsync.toml" --detailed-exitcode
