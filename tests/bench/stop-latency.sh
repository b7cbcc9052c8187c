#!/bin/bash
# How long a batch takes to stop: signal -> exit, over the signal matrix
# {INT, TERM, HUP} x {the main process alone, the whole process group} x
# {checking, rendering per-row files, writing a combined PDF}, plus a
# second signal while stopping, on the shared station list ten times over
# (5,400 rows) at random moments. A measurement, not a test (tests/
# test_stop.c checks behaviour without timing): prints each run and the
# worst latency, and fails if a run hangs (> 30 s), leaves a temporary or
# exits with the wrong status.
#
#   QRPOSTER=./qrposter bash tests/bench/stop-latency.sh [REPEATS]
set -u
QRPOSTER=$(realpath "${QRPOSTER:-./qrposter}")
DATA=${BENCH_DATA:-../shared/data/stations.csv}
REPS=${1:-2}
OUT=${BENCH_OUT:-tests/bench/out}/stop
export QRPOSTER_DATADIR=${QRPOSTER_DATADIR:-$(pwd)}
rm -rf "$OUT"; mkdir -p "$OUT"
{ head -1 "$DATA"; for i in $(seq 10); do tail -n +2 "$DATA" | sed "s/^\([^,]*\),/\1-$i,/"; done; } > "$OUT/big.csv"

now() { date +%s%N; }
worst=0 bad=0
# run PHASE SIG TARGET SECOND
run() {
	local ph=$1 sig=$2 to=$3 second=$4 d=$OUT/run args pid t0 t1 rc ms
	rm -rf "$d"; mkdir -p "$d/out"
	if [ "$ph" = combine ]; then args=(--combine "$d/out/run.pdf"); else args=(-o "$d/out/{{code}}.pdf"); fi
	setsid "$QRPOSTER" batch -q -j 2 -d "$OUT/big.csv" "${args[@]}" 2>"$d/err" &
	pid=$!
	# Wait for the phase: checking = before the first file, rendering =
	# after it, then a random part of a second more.
	case $ph in
	check) sleep "0.$((RANDOM % 9 + 1))" ;;
	render) until ls "$d/out" 2>/dev/null | grep -q '\.pdf$'; do sleep 0.05; done
		sleep "0.$((RANDOM % 9))" ;;
	combine) sleep "$((RANDOM % 3)).$((RANDOM % 9 + 1))" ;;
	esac
	if [ "$ph" = check ] && ls "$d/out" | grep -q '\.pdf$'; then
		echo "  (rendering had begun: not a checking-phase run)"; fi
	t0=$(now)
	if [ "$to" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
	if [ "$second" = 1 ]; then sleep 0.01; t0=$(now)
		if [ "$to" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi; fi
	for _ in $(seq 3000); do kill -0 "$pid" 2>/dev/null || break; sleep 0.001; done
	if kill -0 "$pid" 2>/dev/null; then echo "HANG: $ph $sig $to"; kill -KILL -- -"$pid"; bad=1; return; fi
	wait "$pid"; rc=$?; t1=$(now)
	ms=$(( (t1 - t0) / 1000000 ))
	[ "$ms" -gt "$worst" ] && worst=$ms
	local want=$((128 + $(kill -l "$sig"))) tmp
	tmp=$(ls -A "$d/out" | grep -c '^\.')
	printf '  %-7s %-4s %-5s %-6s exit %3d  %5d ms  %s\n' "$ph" "$sig" "$to" \
	    "$([ "$second" = 1 ] && echo twice || echo once)" "$rc" "$ms" \
	    "$([ "$tmp" -gt 0 ] && echo "TEMPORARY LEFT" || echo "no temporary")"
	{ [ "$rc" -eq "$want" ] && [ "$tmp" -eq 0 ]; } || bad=1
}

uptime
for ph in check render combine; do
	for sig in INT TERM HUP; do
		for to in main group; do
			for _ in $(seq "$REPS"); do run "$ph" "$sig" "$to" 0; done
		done
	done
	run "$ph" TERM main 1
	run "$ph" INT group 1
done
uptime
echo "worst stop latency: $worst ms"
exit $bad
