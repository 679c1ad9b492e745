# Shared shell helpers for Petrel's scripts. Sourced, not run.

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version pinned with '=' in Cargo.toml: the CLI and test runner must equal it.
wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen *= *{\{0,1\} *\(version *= *\)\{0,1\}"=\([0-9.]*\)".*/\2/p' Cargo.toml | head -n1
}

# A free TCP port on 127.0.0.1, chosen by the kernel, so two runs on one machine never collide.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until a TCP port on 127.0.0.1 accepts connections, or fails after $2 seconds.
wait_for_port() {
  local port=$1 limit=${2:-30} waited=0
  until python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
    sleep 0.2; waited=$((waited+1))
    [ $waited -ge $((limit*5)) ] && return 1
  done
  return 0
}
