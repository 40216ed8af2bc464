# Shared setup for scripts/demo.sh and scripts/test.sh: installs what is
# missing, builds the host and the adapters. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_TARGET=wasm32-wasip2
# Packages of Debian's own Rust toolchain, which can build wasm32-wasip2
# components from apt and crates.io alone (see README, "Building adapters").
DEBIAN_WASM_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 wasi-libc)

# Progress on stderr, in bold only on a terminal (and never with NO_COLOR).
say() {
    if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
        printf '\033[1m==> %s\033[0m\n' "$*" >&2
    else
        printf '==> %s\n' "$*" >&2
    fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages that are not installed yet.
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]} with apt"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Prints the route used to build adapters: `rustup` (the wasm32-wasip2
# target, installed or added within a time bound) or `debian` (Debian's
# rustc-web with -Z build-std). ALLSYNC_WASM_ROUTE forces one.
wasm_route() {
    if [ -n "${ALLSYNC_WASM_ROUTE:-}" ]; then
        echo "$ALLSYNC_WASM_ROUTE"
    elif rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"; then
        echo rustup
    elif command -v rustup >/dev/null && timeout 180 rustup target add "$WASM_TARGET" >&2; then
        echo rustup
    else
        echo debian
    fi
}

# Builds every adapter in plugins/ and tests/adapters/ into components:
# shipped ones land in plugins/<name>.wasm, test-only ones in
# target/test-adapters/<name>.wasm.
build_adapters() {
    local route out
    route="$(wasm_route)"
    case "$route" in
        rustup)
            say "building adapters with rustup's $WASM_TARGET target"
            cargo build --release --target "$WASM_TARGET" --manifest-path "$ROOT/plugins/Cargo.toml"
            out="$ROOT/plugins/target/$WASM_TARGET/release"
            ;;
        debian)
            say "building adapters with Debian's rustc-web and -Z build-std (no rustup target available)"
            apt_install "${DEBIAN_WASM_PACKAGES[@]}"
            (
                export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
                export CARGO_TARGET_DIR="$ROOT/plugins/target/debian"
                export RUSTFLAGS="-L native=/usr/lib/wasm32-wasi -C link-arg=--wasm-ld-path=/usr/bin/wasm-ld-22"
                /usr/bin/cargo build --release -Z build-std=std,panic_abort --target "$WASM_TARGET" \
                    --manifest-path "$ROOT/plugins/Cargo.toml"
            )
            out="$ROOT/plugins/target/debian/$WASM_TARGET/release"
            ;;
        *)
            echo "ALLSYNC_WASM_ROUTE must be rustup or debian, not '$route'" >&2
            return 1
            ;;
    esac
    mkdir -p "$ROOT/target/test-adapters"
    copy_components "$out" "$ROOT/plugins" "$ROOT"/plugins/*/Cargo.toml
    copy_components "$out" "$ROOT/target/test-adapters" "$ROOT"/tests/adapters/*/Cargo.toml
}

# copy_components BUILD_DIR DEST MANIFEST...: copies the component of each
# manifest that builds one (a cdylib) from BUILD_DIR to DEST/<package-name>.wasm.
copy_components() {
    local from="$1" to="$2" manifest name
    shift 2
    for manifest in "$@"; do
        grep -q 'crate-type = \["cdylib"\]' "$manifest" || continue
        name="$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)"
        cp "$from/${name//-/_}.wasm" "$to/$name.wasm"
    done
}

# Whether OUT is missing or older than any file under the given paths.
stale() {
    local out="$1"
    shift
    [ ! -e "$out" ] || [ -n "$(find "$@" -newer "$out" -type f -print -quit)" ]
}

# componentize-py, pinned, in a virtualenv of the project's.
python_toolchain() {
    [ -x "$ROOT/target/venv/bin/componentize-py" ] && return 0
    python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv python3-pip
    say "installing componentize-py into target/venv"
    python3 -m venv "$ROOT/target/venv"
    "$ROOT/target/venv/bin/pip" install -q componentize-py==0.25.1
}

# componentize-js, pinned by sdk/js/package-lock.json.
js_toolchain() {
    [ -x "$ROOT/sdk/js/node_modules/.bin/componentize-js" ] && return 0
    command -v npm >/dev/null || apt_install nodejs npm
    say "installing componentize-js into sdk/js/node_modules"
    # `npm install`, not `npm ci`: npm 11's ci rejects a lock without every
    # platform's optional packages; install still follows the committed lock.
    (cd "$ROOT/sdk/js" && npm install --no-audit --no-fund --loglevel=error)
}

# build_python APP_DIR OUT: the Python adapter whose module is APP_DIR/app.py.
build_python() {
    stale "$2" "$1" "$ROOT/sdk/python" "$ROOT/wit" || return 0
    say "building $(basename "$2") from Python ($1)"
    "$ROOT/target/venv/bin/componentize-py" -d "$ROOT/wit" -w plugin componentize app \
        -p "$ROOT/sdk/python" -p "$1" -o "$2" >/dev/null
}

# build_js APP_DIR OUT: the JavaScript adapter whose module is APP_DIR/app.js,
# staged beside a copy of the SDK (componentize-js resolves imports within
# its working folder).
build_js() {
    stale "$2" "$1" "$ROOT/sdk/js/allsync-sdk.js" "$ROOT/wit" || return 0
    say "building $(basename "$2") from JavaScript ($1)"
    local stage="$ROOT/target/js-stage/$(basename "$2" .wasm)"
    rm -rf "$stage" && mkdir -p "$stage"
    cp "$ROOT/sdk/js/allsync-sdk.js" "$1"/*.js "$stage/"
    (cd "$stage" && "$ROOT/sdk/js/node_modules/.bin/componentize-js" app.js \
        --wit "$ROOT/wit" --world-name plugin -o "$2" >/dev/null)
}

# clang for wasm32-wasi, wasi-libc, and wasm-ld (wasm-component-ld comes with rustc).
c_toolchain() {
    apt_install clang wasi-libc libclang-rt-dev-wasm32 lld-22
}

# The C example: the C template, scaffolded as `static` by `allsync new`
# and built by its own build.sh.
build_c_example() {
    local out="$ROOT/plugins/static.wasm"
    stale "$out" "$ROOT/sdk/templates/c" "$ROOT/sdk/c" || return 0
    c_toolchain
    say "building static.wasm from C (sdk/templates/c)"
    rm -rf "$ROOT/target/c-stage" && mkdir -p "$ROOT/target/c-stage"
    "$ROOT/target/debug/allsync" new c static --dir "$ROOT/target/c-stage" >/dev/null
    "$ROOT/target/c-stage/static/build.sh" >/dev/null
    cp "$ROOT/target/c-stage/static/static.wasm" "$out"
}

# Headless Chromium, which the status page's end-to-end test drives.
browser_toolchain() {
    apt_install chromium
}

# The SDK examples, shipped as adapters (the C one needs the host built).
build_sdk_examples() {
    python_toolchain
    build_python "$ROOT/sdk/python/example" "$ROOT/plugins/http-json.wasm"
    js_toolchain
    build_js "$ROOT/sdk/js/example" "$ROOT/plugins/webhook.wasm"
    build_c_example
}

# Checks that sdk/c/gen is what wit-bindgen 0.63.0 generates from wit/.
check_c_bindings() {
    if [ "$(wit-bindgen --version 2>/dev/null | cut -d' ' -f2)" != 0.63.0 ]; then
        say "installing wit-bindgen-cli 0.63.0 (a few minutes, once)"
        cargo install --locked --quiet wit-bindgen-cli@0.63.0
    fi
    local fresh="$ROOT/target/c-bindings"
    rm -rf "$fresh"
    wit-bindgen c "$ROOT/wit" --world plugin --out-dir "$fresh" >/dev/null 2>&1
    diff -r "$ROOT/sdk/c/gen" "$fresh" >/dev/null || {
        echo "sdk/c/gen is stale: regenerate it with: wit-bindgen c wit --world plugin --out-dir sdk/c/gen" >&2
        return 1
    }
}

# Builds the allsync binary (dev profile, dependencies optimised), with every
# workspace crate's tests and benchmarks: the feature set `cargo test
# --workspace` uses (dev-dependencies included), so no dependency is built twice.
build_host() {
    say "building the allsync host"
    cargo build --manifest-path "$ROOT/Cargo.toml" --workspace --all-targets
}

setup() {
    command -v cargo >/dev/null || {
        echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
        return 1
    }
    build_adapters
    build_host
    build_sdk_examples
}
