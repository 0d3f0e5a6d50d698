#!/bin/bash
# bench/ab.sh: side-by-side runs of `swf bench` against several servers, interleaved, so that the machine's
# changing speed falls on all of them alike (see BENCHMARKS.md).
#
#   bench/ab.sh ROUNDS N K 'LABEL|COMMAND' ...
#
# Each round starts each COMMAND in turn on a fresh port and directory ({PORT} and {DIR} in it are replaced),
# waits for it to answer, runs `swf bench --workflows N --activities K` against it with --server-pid, reads its
# /metrics, stops it and prints one line: workflows/s, server CPU and write system calls per workflow, WAL
# syncs per workflow (SQLite), client CPU per workflow and the largest p99. Environment: SWF (the swf binary,
# default: swf on PATH), C (concurrency, default 8), S (starters, default 4). For example:
#
#   bench/ab.sh 5 3000 1 \
#     "A|/tmp/a/swfd --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn" \
#     "B|/tmp/b/swfd --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn" \
#     "null|/tmp/b/swfd-null --addr 127.0.0.1:{PORT}"
set -u
ROUNDS=$1 N=$2 K=$3
shift 3
SWF=${SWF:-swf}
. "$(dirname "$0")/lib.sh"
for r in $(seq 1 "$ROUNDS"); do
	for spec in "$@"; do
		run_alone "$spec" "$r"
	done
done
