#!/bin/bash
# bench/goals.sh: the durable path's three figures (see BENCHMARKS.md), measured the way they are defined: W1
# (K=1, C=8, S=4) against swfd on a SQLite file, swfd in memory and the null server, one after the other (in the
# opposite order every other round), in each of ROUNDS rounds, each run on a fresh server and directory.
#
#   bench/goals.sh ROUNDS N
#
# Prints each run's line (as bench/ab.sh does), then each round's ratios and their medians:
#   - server CPU per workflow, file ÷ memory (goal ≤ 1.3);
#   - workflows/s, file ÷ null (goal ≥ 0.6), and memory ÷ null beside it, the most a durable store could reach
#     without a faster engine;
#   - write system calls per workflow the file adds to the memory store's, which are the network's (goal ≤ 20).
# Environment: SWF, SWFD and SWFD_NULL (the binaries; default: swf, swfd and swfd-null on PATH). For example:
#
#   go build -o /tmp/b/ ./cmd/... && SWF=/tmp/b/swf SWFD=/tmp/b/swfd SWFD_NULL=/tmp/b/swfd-null bench/goals.sh 4 3000
set -u
ROUNDS=$1 N=$2 K=1
SWF=${SWF:-swf} SWFD=${SWFD:-swfd} SWFD_NULL=${SWFD_NULL:-swfd-null}
. "$(dirname "$0")/lib.sh"
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
servers=(
	"file|$SWFD --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn"
	"memory|$SWFD --addr 127.0.0.1:{PORT} --db sqlite::memory: --log-level warn"
	"null|$SWFD_NULL --addr 127.0.0.1:{PORT}"
)
for r in $(seq 1 "$ROUNDS"); do
	# Even rounds run the servers in the opposite order, so that a machine
	# that speeds up or slows down during a round favours none of them.
	order=(0 1 2)
	if ((r % 2 == 0)); then
		order=(2 1 0)
	fi
	for i in "${order[@]}"; do
		spec=${servers[$i]}
		run_alone "$spec" "$r" "$keep/${spec%%|*}.$r.json"
	done
done
python3 - "$keep" "$ROUNDS" <<'EOF'
import json
import statistics
import sys

keep, rounds = sys.argv[1], int(sys.argv[2])


def run(label, r):
    try:
        return json.load(open(f"{keep}/{label}.{r}.json"))
    except (OSError, ValueError):
        return None


figures = {
    "server CPU per workflow, file ÷ memory (goal ≤ 1.3)":
        lambda f, m, n: f["serverCpuPerWorkflowMs"] / m["serverCpuPerWorkflowMs"],
    "workflows/s, file ÷ null (goal ≥ 0.6)":
        lambda f, m, n: f["workflowsPerSecond"] / n["workflowsPerSecond"],
    "workflows/s, memory ÷ null":
        lambda f, m, n: m["workflowsPerSecond"] / n["workflowsPerSecond"],
    "write calls per workflow, file − memory (goal ≤ 20)":
        lambda f, m, n: f["serverWriteCallsPerWorkflow"] - m["serverWriteCallsPerWorkflow"],
}
for name, fig in figures.items():
    values = []
    for r in range(1, rounds + 1):
        f, m, n = run("file", r), run("memory", r), run("null", r)
        if f and m and n:
            values.append(fig(f, m, n))
    if values:
        print(f"{name}: {', '.join(f'{v:.2f}' for v in values)}; median {statistics.median(values):.2f}")
    else:
        print(f"{name}: no complete round")
EOF
