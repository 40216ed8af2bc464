#!/usr/bin/env bash
# Builds {{name}}.wasm with clang for wasm32-wasi; wasm-component-ld (shipped
# with rustc) turns it into a component. Debian: apt-get install clang
# wasi-libc libclang-rt-dev-wasm32 lld-22.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
component_ld="${WASM_COMPONENT_LD:-$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld}"
[ -x "$component_ld" ] || component_ld=/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld
wasm_ld="${WASM_LD:-$(command -v wasm-ld-22 || command -v wasm-ld)}"
clang --target=wasm32-wasi -O2 -mexec-model=reactor -I . -I gen \
    -fuse-ld="$component_ld" -Wl,--wasm-ld-path="$wasm_ld" -Wl,--wasi-adapter=reactor \
    -o {{name}}.wasm app.c gen/plugin.c gen/plugin_component_type.o
echo "built {{name}}.wasm"
