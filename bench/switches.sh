#!/bin/bash
# bench/switches.sh: what one W1 run (`swf bench`, K=1, C=8, S=4) costs a server per workflow, split the way the
# kernel counts it: user and system CPU, and voluntary and involuntary context switches, summed over the
# server's threads from /proc/PID/task/*/stat and status before and after the run; with workflows/s, the
# client's CPU, the WAL syncs (SQLite's metric) and the largest p99 (see BENCHMARKS.md, "Syncs that do not
# hold the scheduler"). machine/wf is the whole machine's busy CPU per workflow (/proc/stat: the client, the
# server and the kernel's own workers together).
#
#   bench/switches.sh LABEL "COMMAND" N
#
# {PORT} and {DIR} in COMMAND are replaced by a fresh port and directory, as in bench/pair.sh; the environment
# (GOMAXPROCS, say) reaches the server. SWF is the swf binary (default: swf on PATH). For example:
#
#   GOMAXPROCS=1 bench/switches.sh file "/tmp/b/swfd --addr 127.0.0.1:{PORT} --db sqlite:{DIR}/swfd.db --log-level warn" 3000
set -u
label=$1 cmd=$2 N=$3 K=1 SWF=${SWF:-swf}
. "$(dirname "$0")/lib.sh"
d=$(mktemp -d) p=$((21000 + RANDOM % 8000))
cmd=${cmd//\{PORT\}/$p} cmd=${cmd//\{DIR\}/$d}
eval "exec $cmd" >"$d/log" 2>&1 &
pid=$!
wait_up "$p"
snap() {
	for t in /proc/$pid/task/*; do
		echo "$(awk '{print $14, $15}' "$t/stat") $(awk '/^voluntary_ctxt/{v=$2} /^nonvoluntary_ctxt/{n=$2} END{print v, n}' "$t/status")"
	done 2>/dev/null | awk '{u+=$1; s+=$2; v+=$3; n+=$4} END{print u, s, v, n}'
}
before=$(snap)
mach0=$(head -1 /proc/stat)
"$SWF" bench --endpoint-url "http://127.0.0.1:$p" $(bench_args) >"$d/out" 2>"$d/err" || { echo "$label: swf bench failed: $(cat "$d/err")" >&2; }
after=$(snap)
mach1=$(head -1 /proc/stat)
curl -s "http://127.0.0.1:$p/metrics" >"$d/metrics"
kill "$pid"
wait "$pid" 2>/dev/null
python3 - "$label" "$N" "$before" "$after" "$d" "$mach0" "$mach1" <<'PY'
import json, os, sys
label, n, before, after, d = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5]
u, s, v, i = (int(b) - int(a) for a, b in zip(before, after))
# The whole machine's busy time (user, nice, system, irq, softirq, steal), client and kernel workers included.
m0, m1 = ([int(x) for x in m.split()[1:9]] for m in sys.argv[6:8])
busy = sum(b - a for k, (a, b) in enumerate(zip(m0, m1)) if k not in (3, 4))
tick = os.sysconf("SC_CLK_TCK")
o = json.load(open(d + "/out"))
syncs = 0.0
for line in open(d + "/metrics"):
    if line.startswith("swfd_sqlite_sync_duration_seconds_count"):
        syncs = float(line.split()[-1])
p99 = max(x["p99ms"] for x in o["operations"].values())
ms = 1000 / tick / n
print(f"{label:10s} wf/s={o['workflowsPerSecond']:.1f} cpu/wf={(u + s) * ms:.3f}ms user={u * ms:.3f} sys={s * ms:.3f} "
      f"machine/wf={busy * ms:.3f}ms vcs/wf={v / n:.2f} ics/wf={i / n:.2f} syncs/wf={syncs / n:.2f} client/wf={o['clientCpuPerWorkflowMs']:.3f} p99max={p99:.1f}")
PY
rm -rf "$d"
