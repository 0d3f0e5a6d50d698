#!/usr/bin/env bash
# Runs clients/boto3/throttling.py against a swfd of its own started with
# --quotas clients/boto3/quotas.json (the run-all.sh server runs without
# quotas). SWFD_BIN names the swfd binary; without it one is built.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/swfd-throttling.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
bin=${SWFD_BIN:-}
if [ -z "$bin" ]; then
  bin="$work/swfd"
  go build -buildvcs=false -o "$bin" ./cmd/swfd || { echo "FAIL: go build"; exit 1; }
fi
: >"$work/swfd.log"
"$bin" --addr 127.0.0.1:0 --db sqlite::memory: --poll-timeout 2s --quotas clients/boto3/quotas.json >"$work/swfd.log" 2>&1 &
pid=$!
addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's/.*swfd listening" addr=\([0-9.:]*\).*/\1/p' "$work/swfd.log" | head -1)
  [ -n "$addr" ] && curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break
  addr=
  sleep 0.1
done
[ -n "$addr" ] || { echo "FAIL: swfd did not start"; cat "$work/swfd.log"; exit 1; }
SWFD_ENDPOINT="http://$addr" python3 clients/boto3/throttling.py
status=$?
if grep -q 'level=ERROR' "$work/swfd.log"; then
  echo "swfd logged errors:"; grep 'level=ERROR' "$work/swfd.log"
  status=1
fi
exit $status
