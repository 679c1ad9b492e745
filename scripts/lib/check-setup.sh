#!/usr/bin/env bash
# The end of scripts/setup: checks that every tool the build and the tests use answers at the version
# Petrel pins, so a missing step fails here, by name, instead of minutes later inside a build script.
# Usage: scripts/lib/check-setup.sh [--no-browsers] [--no-mailserver]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

want_browsers=1
want_mailserver=1
for arg in "$@"; do
  case "$arg" in
    --no-browsers) want_browsers=0 ;;
    --no-mailserver) want_mailserver=0 ;;
  esac
done

failures=()
fail() { failures+=("$1"); printf '  FAIL %s\n' "$1" >&2; }
pass() { printf '  ok   %s\n' "$1" >&2; }

step "checking the set-up"

# protoc must compile the real proto, well-known imports included (google/protobuf/*.proto).
if out=$(protoc -I protos --include_imports -o /dev/null protos/*.proto 2>&1); then
  pass "protoc $(protoc --version | awk '{print $2}') compiles protos/"
else
  fail "protoc cannot compile protos/ (well-known types come from libprotobuf-dev): $out"
fi

want=$(wasm_bindgen_version)
got=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
[ "$got" = "$want" ] && pass "wasm-bindgen $got matches the crate" || fail "wasm-bindgen is '${got:-missing}', the crate pins $want"
# rustfmt and clippy come with the machine's Rust toolchain (rustup's default profile).
cargo fmt --version >/dev/null 2>&1 && pass "rustfmt" || fail "rustfmt is missing: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 && pass "clippy" || fail "clippy is missing: rustup component add clippy"
lf_want=$(sed -n 's/^LEPTOSFMT_VERSION=//p' scripts/setup)
got=$(leptosfmt --version 2>/dev/null | awk '{print $2}' || true)
[ "$got" = "$lf_want" ] && pass "leptosfmt $got" || fail "leptosfmt is '${got:-missing}', Petrel pins $lf_want"
split_want=$(sed -n 's/^WASM_SPLIT_VERSION=//p' scripts/setup)
cargo install --list | grep -qx "wasm_split_cli_support v$split_want:" && command -v wasm-split-cli >/dev/null \
  && pass "wasm-split-cli $split_want" || fail "wasm-split-cli $split_want is missing (cargo install wasm_split_cli_support --features build-binary)"
command -v wasm-bindgen-test-runner >/dev/null && pass "wasm-bindgen-test-runner" || fail "wasm-bindgen-test-runner is missing"
trunk_want=$(sed -n 's/^TRUNK_VERSION=//p' scripts/setup)
got=$(trunk --version 2>/dev/null | awk '{print $2}' || true)
[ "$got" = "$trunk_want" ] && pass "trunk $got" || fail "trunk is '${got:-missing}', Petrel pins $trunk_want"
opt_want=$(sed -n 's/^wasm_opt = "version_\([0-9]*\)"/\1/p' Trunk.toml)
got=$(node_modules/.bin/wasm-opt --version 2>/dev/null | awk '{print $3}' || true)
[ "$got" = "$opt_want" ] && pass "wasm-opt $got (npm binaryen)" || fail "node_modules/.bin/wasm-opt is '${got:-missing}', Trunk.toml asks for $opt_want"
axe_want=$(node -p "require('./package.json').devDependencies['axe-core']" 2>/dev/null || true)
got=$(node -p "require('./node_modules/axe-core/package.json').version" 2>/dev/null || true)
[ -n "$got" ] && [ "$got" = "$axe_want" ] && pass "axe-core $got (npm)" || fail "node_modules/axe-core is '${got:-missing}', package.json pins ${axe_want:-?}"
# The edge runtimes the edge suite and petrel-edge run in.
for tool in workerd deno; do
  want=$(node -p "require('./package.json').devDependencies['$tool']" 2>/dev/null || true)
  got=$(node -p "require('./node_modules/$tool/package.json').version" 2>/dev/null || true)
  if [ -n "$got" ] && [ "$got" = "$want" ] && node_modules/.bin/$tool --version >/dev/null 2>&1; then
    pass "$tool $got (npm)"
  else
    fail "node_modules/$tool is '${got:-missing}' (or does not run), package.json pins ${want:-?}"
  fi
done
rustup target list --installed | grep -qx wasm32-unknown-unknown && pass "rust target wasm32-unknown-unknown" \
  || fail "rust target wasm32-unknown-unknown is missing"
command -v node >/dev/null && pass "node $(node --version)" || fail "node is missing (scripts/build compresses with it)"

if [ $want_mailserver = 1 ]; then
  for tool in /usr/lib/cyrus/bin/master saslpasswd2 curl; do
    command -v "$tool" >/dev/null && pass "$tool" || fail "$tool is missing (the Cyrus test server)"
  done
fi

if [ $want_browsers = 1 ]; then
  gecko_want=$(sed -n 's/^GECKODRIVER_VERSION=//p' scripts/setup)
  got=$(geckodriver --version 2>/dev/null | awk 'NR==1{print $2}' || true)
  [ "$got" = "$gecko_want" ] && pass "geckodriver $got" || fail "geckodriver is '${got:-missing}', Petrel pins $gecko_want"
  # Each engine must start through its driver and run a script, as the tests will have it.
  for engine in chromium firefox webkit; do
    if out=$(python3 tests/e2e/webdriver.py --check "$engine" 2>&1); then
      pass "$engine starts through its driver: $out"
    else
      fail "$engine does not start through its driver: $(printf '%s' "$out" | tail -n 3)"
    fi
  done
fi

if [ ${#failures[@]} -gt 0 ]; then
  die "set-up incomplete (${#failures[@]} problem(s) above)"
fi
