#!/bin/bash
# bench/pair.sh: A/B runs of `swf bench` against two or more servers at the same time, each with its own client,
# so that whatever the machine's speed does during a round it does to all of them (see BENCHMARKS.md).
#
#   bench/pair.sh ROUNDS N K 'LABEL|COMMAND' 'LABEL|COMMAND' ...
#
# Each round starts every COMMAND on a fresh port and directory ({PORT} and {DIR} in it are replaced), waits for
# each to answer, runs one `swf bench --workflows N --activities K --server-pid PID` against each, all at once,
# then reads each one's /metrics, stops it and prints one line per server, as bench/ab.sh does. The servers
# share the cores, so absolute figures are lower than a server's alone; compare the servers within a round
# (their CPU per workflow, mostly). Servers of very different speeds finish at different times and the slower
# one then runs alone for a while: use it for variants of one server. Environment: SWF (the swf binary,
# default: swf on PATH), C (concurrency, default 8), S (starters, default 4). For example:
#
#   bench/pair.sh 5 2000 1 \
#     "A|/tmp/a/swfd --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn" \
#     "B|/tmp/b/swfd --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn"
set -u
ROUNDS=$1 N=$2 K=$3
shift 3
SWF=${SWF:-swf}
. "$(dirname "$0")/lib.sh"
for r in $(seq 1 "$ROUNDS"); do
	pids=() dirs=() ports=() labels=() clients=()
	for spec in "$@"; do
		start_server "$spec"
		pids+=("$pid") dirs+=("$dir") ports+=("$port") labels+=("$label")
	done
	for port in "${ports[@]}"; do
		wait_up "$port"
	done
	for i in "${!pids[@]}"; do
		"$SWF" bench --endpoint-url "http://127.0.0.1:${ports[$i]}" $(bench_args) --server-pid "${pids[$i]}" \
			>"${dirs[$i]}/out" 2>"${dirs[$i]}/err" &
		clients+=($!)
	done
	wait "${clients[@]}"
	for i in "${!pids[@]}"; do
		finish_run "${labels[$i]}" "$r" "${ports[$i]}" "${pids[$i]}" "${dirs[$i]}"
	done
done
