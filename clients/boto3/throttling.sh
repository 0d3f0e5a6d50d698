#!/usr/bin/env bash
# Runs clients/boto3/throttling.py against a swfd of its own started with
# --quotas clients/boto3/quotas.json (the run-all.sh server runs without
# quotas). SWFD_BIN names the swfd binary; without it one is built.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/swfd-throttling.XXXXXX")
swfd_pid=
cleanup() {
  [ -n "$swfd_pid" ] && kill "$swfd_pid" 2>/dev/null && wait "$swfd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. clients/start-swfd.sh
bin=$(swfd_binary "$work") || exit 1
start_swfd "$bin" "$work/swfd.log" --db sqlite::memory: --poll-timeout 2s --quotas clients/boto3/quotas.json || exit 1
SWFD_ENDPOINT="http://$addr" python3 clients/boto3/throttling.py
status=$?
swfd_log_clean "$work/swfd.log" || status=1
exit $status
