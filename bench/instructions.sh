#!/bin/bash
# bench/instructions.sh: user-space instructions per workflow of each server, counted by valgrind's callgrind,
# a figure that does not move with the machine's speed or load (see BENCHMARKS.md, "twenty-second step").
#
#   bench/instructions.sh N1 N2 "LABEL|COMMAND" ...
#
# Each COMMAND ({PORT} and {DIR} in it replaced by a fresh port and directory, as in bench/pair.sh) runs under
# callgrind twice: once driven by W1 (`swf bench`, K=1, C=8, S=4) with N1 workflows and once with N2. Its
# counters are dumped when the run ends, and the difference of the two totals divided by N2 − N1 is the
# instructions one more workflow costs: start-up, registration and the first compilations cancel out. The
# client runs outside valgrind. Prints one line per server: LABEL, the two totals and the figure in millions.
# Environment: SWF (default: swf on PATH); KEEP=DIR keeps each run's callgrind file in DIR, for
# callgrind_annotate. Needs valgrind (Debian's package) and takes about a minute per 500 workflows.
#
# Go's runtime needs two settings to run under valgrind 3.19: GODEBUG=cpu.rdtscp=off (valgrind does not know
# the RDTSCP instruction the runtime reads its tick counter with) and asyncpreemptoff=1 (callgrind stops on
# the runtime's preemption signals). A SIGTERM does the same, so the counters are dumped with callgrind_control
# and the server is then killed.
set -u
N1=$1 N2=$2
shift 2
SWF=${SWF:-swf} K=1
. "$(dirname "$0")/lib.sh"
count() { # count SPEC N OUT: prints the server's instructions over a run of N workflows
	local spec=$1 n=$2 out=$3 label cmd d p vp
	label=${spec%%|*} cmd=${spec#*|}
	d=$(mktemp -d) p=$((21000 + RANDOM % 8000))
	cmd=${cmd//\{PORT\}/$p} cmd=${cmd//\{DIR\}/$d}
	GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off eval "exec valgrind --tool=callgrind --callgrind-out-file=$out $cmd" >"$d/log" 2>&1 &
	vp=$!
	for _ in $(seq 600); do
		curl -s -o /dev/null "http://127.0.0.1:$p/" && break
		sleep 0.2
	done
	N=$n "$SWF" bench --endpoint-url "http://127.0.0.1:$p" $(N=$n bench_args) >"$d/out" 2>"$d/err" ||
		{ echo "$label: swf bench failed: $(cat "$d/err")" >&2; }
	callgrind_control -d "$vp" >/dev/null
	for _ in $(seq 100); do
		ls "$out".* >/dev/null 2>&1 && [ -s "$(ls "$out".* | head -1)" ] && break
		sleep 0.1
	done
	sleep 1
	kill -9 "$vp" 2>/dev/null
	wait "$vp" 2>/dev/null
	sed -n 's/^summary: //p' "$out".* | head -1
	rm -rf "$d"
}
keep=${KEEP:-$(mktemp -d)}
mkdir -p "$keep"
for spec in "$@"; do
	label=${spec%%|*}
	a=$(count "$spec" "$N1" "$keep/$label.$N1.out")
	b=$(count "$spec" "$N2" "$keep/$label.$N2.out")
	python3 -c "import sys; a,b,n1,n2=map(int,sys.argv[1:5]); print(f'{sys.argv[5]:10s} {a:>14,} {b:>14,}  {(b-a)/(n2-n1)/1e6:.3f} M instructions per workflow')" "$a" "$b" "$N1" "$N2" "$label"
done
[ -n "${KEEP:-}" ] || rm -rf "$keep"
