#!/usr/bin/env bash
# Runs clients/boto3/lambda.py against a swfd of its own whose
# --lambda-endpoint is clients/boto3/lambda_stub.py (the run-all.sh server
# has no Lambda endpoint). SWFD_BIN names the swfd binary; without it one is
# built.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/swfd-lambda.XXXXXX")
swfd_pid= stub_pid=
cleanup() {
  [ -n "$swfd_pid" ] && kill "$swfd_pid" 2>/dev/null && wait "$swfd_pid" 2>/dev/null
  [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. clients/start-swfd.sh
bin=$(swfd_binary "$work") || exit 1
python3 clients/boto3/lambda_stub.py 0 >"$work/stub.log" 2>&1 &
stub_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^lambda stub listening \([0-9]*\)$/\1/p' "$work/stub.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the Lambda stub did not start"; cat "$work/stub.log"; exit 1; }
start_swfd "$bin" "$work/swfd.log" --db sqlite::memory: --poll-timeout 2s --lambda-endpoint "http://127.0.0.1:$port" || exit 1
SWFD_ENDPOINT="http://$addr" LAMBDA_STUB="http://127.0.0.1:$port" python3 clients/boto3/lambda.py
status=$?
swfd_log_clean "$work/swfd.log" || status=1
exit $status
