# Sourced by the scripts that run clients against a swfd of their own.
#
#   start_swfd BINARY LOG [ARG...]
#
# starts BINARY on a free loopback port (--addr 127.0.0.1:0: the kernel
# picks one and swfd logs the address it got) with the given arguments,
# its log in LOG, and waits until /healthz answers. It sets swfd_pid and
# addr (HOST:PORT); it fails, printing the log, if swfd does not start.
start_swfd() {
  local bin=$1 log=$2
  shift 2
  "$bin" --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
  swfd_pid=$!
  addr=
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/.*swfd listening" addr=\([0-9.:]*\).*/\1/p' "$log" | head -1)
    [ -n "$addr" ] && curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && return 0
    addr=
    sleep 0.1
  done
  echo "FAIL: swfd did not start"
  cat "$log"
  return 1
}

# swfd_binary WORK prints $SWFD_BIN, or builds swfd into WORK and prints
# that; it fails if the build does.
swfd_binary() {
  if [ -n "${SWFD_BIN:-}" ]; then
    echo "$SWFD_BIN"
    return 0
  fi
  go build -buildvcs=false -o "$1/swfd" ./cmd/swfd || { echo "FAIL: go build" >&2; return 1; }
  echo "$1/swfd"
}

# swfd_log_clean LOG fails, printing them, if swfd logged errors in LOG.
swfd_log_clean() {
  if grep -q 'level=ERROR' "$1"; then
    echo "swfd logged errors:"
    grep 'level=ERROR' "$1"
    return 1
  fi
}
