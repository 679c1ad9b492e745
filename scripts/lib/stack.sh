# Starts Petrel's local stack (a JMAP server + SMTP sink, gateway) under one run folder and stops all of it
# on exit, also when a step fails or the user presses Ctrl-C. Sourced by scripts/run and scripts/test.

STACK_DIR=""
GATEWAY_PID=""
EXTRA_PIDS=()

stack_stop() {
  local status=$?
  trap '' INT TERM  # a second Ctrl-C must not cut the cleanup short
  for pid in "${EXTRA_PIDS[@]}"; do
    { kill "$pid" && wait "$pid"; } 2>/dev/null || true
  done
  EXTRA_PIDS=()
  if [ -n "$GATEWAY_PID" ]; then
    { kill "$GATEWAY_PID" && wait "$GATEWAY_PID"; } 2>/dev/null || true
    GATEWAY_PID=""
  fi
  if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
    python3 scripts/mailserver/mailserver.py stop "$STACK_DIR/mail" 2>/dev/null || true
    [ "${PETREL_KEEP_RUN_DIR:-0}" = 1 ] || rm -rf "$STACK_DIR"
    STACK_DIR=""
  fi
  return $status
}

# stack_start [--demo] [gateway flags...]: mail server with the demo account, then the gateway in front
# of it; --demo makes the app sign in to the demo account by itself. PETREL_SERVER picks the JMAP
# server: cyrus (the default) or stalwart.
# Sets STACK_DIR, GATEWAY_URL, and exports the mail server's facts (JMAP_URL, SINK_DIR, DEMO_USER, ...).
stack_start() {
  trap stack_stop EXIT
  trap 'exit 130' INT TERM
  # Under /tmp: Cyrus's unix sockets need short paths, and each run gets its own folder and ports.
  STACK_DIR=$(mktemp -d /tmp/petrel-run.XXXXXX)
  chmod 755 "$STACK_DIR"
  local server=${PETREL_SERVER:-cyrus} server_flags
  case "$server" in
    cyrus) server_flags=(--httpd "$(scripts/mailserver/build-push-httpd.sh)") ;;
    stalwart) server_flags=(--server stalwart --stalwart "$(scripts/mailserver/build-stalwart.sh)") ;;
    *) die "PETREL_SERVER=$server: the rig runs cyrus or stalwart" ;;
  esac
  step "starting $server JMAP and the SMTP sink in $STACK_DIR"
  # STACK_BULK_MESSAGES (tests): that many generated messages in bulk@example.org's Bulk folder.
  python3 scripts/mailserver/mailserver.py start "$STACK_DIR/mail" --seed-demo --seed-bulk "${STACK_BULK_MESSAGES:-0}" \
    "${server_flags[@]}"
  set -a; source "$STACK_DIR/mail/server.env"; set +a
  if [ "${1:-}" = "--demo" ]; then
    shift
    set -- --demo-login "$DEMO_USER:$DEMO_PASSWORD" "$@"
  fi
  local port=${PETREL_PORT:-$(free_port)}
  GATEWAY_URL="http://127.0.0.1:$port"
  step "starting the gateway on $GATEWAY_URL"
  # STACK_GATEWAY_BIN: another build of the gateway (the benchmarks use an optimised one);
  # STACK_APP_DIR: another build of the app (a debug build names the code in its panics).
  "${STACK_GATEWAY_BIN:-${CARGO_TARGET_DIR:-target}/debug/petrel-gateway}" --listen "127.0.0.1:$port" --app-dir "${STACK_APP_DIR:-dist}" --jmap-upstream "$JMAP_URL" "$@" \
    > "$STACK_DIR/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  wait_for_port "$port" 30 || { cat "$STACK_DIR/gateway.log" >&2; die "the gateway did not start"; }
}

# stack_spawn LOGNAME PORT CMD...: runs a helper server in the background until the stack stops,
# waiting until it listens on 127.0.0.1:PORT.
stack_spawn() {
  local name=$1 port=$2
  shift 2
  "$@" > "$STACK_DIR/$name.log" 2>&1 &
  EXTRA_PIDS+=($!)
  wait_for_port "$port" 20 || { cat "$STACK_DIR/$name.log" >&2; die "$name did not start"; }
}
