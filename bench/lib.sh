# Sourced by bench/ab.sh and bench/pair.sh: starting a server of a run and
# finishing the run.

# start_server SPEC starts the command of SPEC ('LABEL|COMMAND', {PORT} and
# {DIR} in it replaced by a fresh port and directory) and sets label, dir,
# port and pid.
start_server() {
	label=${1%%|*}
	local cmd=${1#*|}
	dir=$(mktemp -d) port=$((20000 + RANDOM % 20000))
	cmd=${cmd//\{PORT\}/$port} cmd=${cmd//\{DIR\}/$dir}
	eval "exec $cmd" >"$dir/log" 2>&1 &
	pid=$!
}

# wait_up PORT waits (up to 10 s) until a server answers on PORT.
wait_up() {
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return
		sleep 0.1
	done
}

# bench_args are the `swf bench` arguments of every run (N, K, C and S).
bench_args() {
	echo --workflows "$N" --activities "$K" --concurrency "${C:-8}" --starters "${S:-4}" --json
}

# finish_run LABEL ROUND PORT PID DIR reads the server's /metrics, stops
# it, prints the run's line and removes DIR.
finish_run() {
	curl -s "http://127.0.0.1:$3/metrics" >"$5/metrics" 2>/dev/null
	kill "$4"
	wait "$4" 2>/dev/null
	"$(dirname "${BASH_SOURCE[0]}")/benchline.py" "$1" "$2" "$5"
	rm -rf "$5"
}

# run_alone SPEC ROUND [COPY] starts the server of SPEC, runs `swf bench`
# against it alone, copies the run's JSON report to COPY if given, and
# finishes the run (see finish_run).
run_alone() {
	start_server "$1"
	wait_up "$port"
	"$SWF" bench --endpoint-url "http://127.0.0.1:$port" $(bench_args) --server-pid "$pid" >"$dir/out" 2>"$dir/err"
	if [ -n "${3:-}" ]; then
		cp "$dir/out" "$3"
	fi
	finish_run "$label" "$2" "$port" "$pid" "$dir"
}
