#!/usr/bin/env python3
"""bench/benchline.py: the one-line summary that bench/ab.sh and bench/pair.sh print for each run.

    bench/benchline.py LABEL ROUND DIR

DIR holds the run's `swf bench --json` output (out), its standard error (err) and the server's /metrics
(metrics). Prints workflows/s, server CPU and write system calls per workflow, WAL syncs per workflow (SQLite),
client CPU per workflow and the largest p99 of any call.
"""
import json
import sys

label, r, d = sys.argv[1:4]
try:
    j = json.load(open(d + "/out"))
except ValueError:
    print(label, "r" + r, "FAILED", open(d + "/err").read()[-300:])
    sys.exit()
syncs = 0.0
try:
    for line in open(d + "/metrics"):
        if line.startswith("swfd_sqlite_sync_duration_seconds_count"):
            syncs = float(line.split()[-1])
except OSError:
    pass
n = j["workflows"]
print(f"{label:10s} r{r} wf/s={j['workflowsPerSecond']:.1f} cpu/wf={j.get('serverCpuPerWorkflowMs', 0):.3f}ms "
      f"w/wf={j.get('serverWriteCallsPerWorkflow', 0):.1f} syncs/wf={syncs / n:.2f} "
      f"client/wf={j['clientCpuPerWorkflowMs']:.3f} p99max={max(v['p99ms'] for v in j['operations'].values()):.1f}")
