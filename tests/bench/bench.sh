#!/bin/sh
# make bench: every figure of issue 10, each with its ratio and target,
# measured in this one run against tests/bench/ref.c (the same Letter
# restroom poster drawn naively with the bare libraries: the yardstick).
#
#   1. Speed, one combined PDF of the shared station list (540 stations,
#      $BENCH_DATA, default ../shared/data/stations.csv beside the
#      repository; never copied into it): pages/s of ref.c and of
#      qrposter at -j 1 and -j 2 and their ratios (targets 1.5x and
#      2.5x), whether the bytes are the same for any -j, KB per page with
#      and without links (targets 1.5 and 1.2). Per-file PDFs and a
#      resumed run for comparison.
#   2. Memory: peak RSS of the combined PDF at each N of $BENCH_N rows
#      (default 1000 10000 100000; target 32 MB and flat), and of
#      --bleed and --marks at each N of $BENCH_BLEED_N (default 1000
#      10000: at 100,000 pages --bleed needs gigabytes until the
#      rewrite is streamed; give BENCH_BLEED_N=100000 to measure it), and
#      --no-links at the same sizes (the memory of Cairo's PDF alone).
#   3. 300-DPI PNG: pages/s of one worker against Cairo's own PNG writer
#      (ref.c png; target 4x), and of two.
#
# Times are the best of $BENCH_REPEAT runs (default 7 for the speed
# runs, 3 for PNG): the machine may be shared, and the fastest run is the
# one least disturbed. pages/s are from elapsed time; "cpu" is pages per
# CPU second (user + system of every process), steadier when others load
# the machine. The load (uptime) is printed with each section. Memory is
# one run per size: the largest resident set of any process
# (/usr/bin/time %M).
#
#   QRPOSTER=./qrposter REF=build/bench-ref sh tests/bench/bench.sh
set -eu
QRPOSTER=${QRPOSTER:-./qrposter}
REF=${REF:-build/bench-ref}
DATA=${BENCH_DATA:-../shared/data/stations.csv}
SIZES=${BENCH_N:-1000 10000 100000}
BLEED_SIZES=${BENCH_BLEED_N:-1000 10000}
PNG_N=${BENCH_PNG_N:-24}
REPEAT=${BENCH_REPEAT:-7}
PNG_REPEAT=${BENCH_PNG_REPEAT:-3}
OUT=${BENCH_OUT:-tests/bench/out}
export QRPOSTER_DATADIR=${QRPOSTER_DATADIR:-$(pwd)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
[ -r "$DATA" ] || { echo "bench: no station list at $DATA (set BENCH_DATA)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"

# N rows: every station, then again as restroom 2, platform 3, ...
gen() {
	awk -F, -v n="$1" 'BEGIN { m = 0 } NR > 1 { code[m] = $1; name[m] = $2; m++ }
	END {
		if (n == 0) n = m
		split("R,P,C,G", kind, ","); split("restroom,platform,concourse,gate", word, ",")
		print "code,name"
		for (i = 0; i < n; i++) {
			s = i % m; r = int(i / m); k = r % 4 + 1
			printf "%s-%s%d,%s station %s %d\n", code[s], kind[k], r + 1, name[s], word[k], r + 1
		}
	}' "$DATA"
}

load() { echo "  load: $(uptime | sed 's/.*load average/load average/')"; }

# measure REPEAT CMD...: run CMD REPEAT times; print the best elapsed
# seconds, the best CPU seconds (user + system, of every process of a
# run) and the largest peak RSS (KB) of any process of any run.
T=$OUT/.time
measure() {
	n=$1; shift
	best= cpu= peak=0
	for r in $(seq "$n"); do
		# Elapsed from the clock in nanoseconds: time's %e counts in
		# hundredths, a tenth of a 540-page run's difference.
		t0=$(date +%s%N)
		/usr/bin/time -f "%e %U %S %M" -o "$T" "$@" >/dev/null 2>"$OUT/.err" || {
			echo "bench: failed: $*" >&2; cat "$OUT/.err" >&2; exit 1; }
		t1=$(date +%s%N)
		set -- $(tail -1 "$T" | awk -v b="$best" -v c="$cpu" -v p="$peak" -v ns="$((t1 - t0))" '{
			e = ns / 1e9; u = $2 + $3
			if (b == "" || e < b) b = e
			if (c == "" || u < c) c = u
			if ($4 > p) p = $4
			print b, c, p }') "$@"
		best=$1 cpu=$2 peak=$3; shift 3
	done
	echo "$best $cpu $peak"
}

size_of() { du -sb --apparent-size "$@" | awk '{s += $1} END {print s}'; }

# line LABEL PAGES SECONDS CPU BYTES KB-PEAK [BASE CPU-BASE [TARGET]]:
# pages/s, pages per CPU second, KB/page, peak MB; the ratios of both
# rates to BASE's (pages/s) and, given a TARGET ratio, whether the
# elapsed one meets it.
line() {
	awk -v l="$1" -v p="$2" -v s="$3" -v c="$4" -v b="$5" -v k="$6" \
	    -v base="${7:-0}" -v cbase="${8:-0}" -v t="${9:-}" 'BEGIN {
		r = p / s; rc = p / c
		printf (r < 100 ? "  %-34s %6.1f" : "  %-34s %6.0f"), l, r
		printf (rc < 100 ? " pages/s (cpu %6.1f)" : " pages/s (cpu %6.0f)"), rc
		printf " %5.2f KB/page %5.1f MB", b / p / 1024, k / 1024
		if (base > 0) printf "  %4.2fx (cpu %4.2fx)", r / base, rc / cbase
		if (t != "") {
			if (r / base >= t) printf "  target %sx: met", t
			else printf "  target %sx: MISSED by %.0f%%", t, 100 * (1 - r / base / t)
		}
		printf "\n" }'
}

# mem LABEL PAGES SECONDS CPU KB-PEAK: peak memory against 32 MB.
mem() {
	awk -v l="$1" -v p="$2" -v s="$3" -v c="$4" -v k="$5" 'BEGIN {
		printf "  %-34s %6.1f MB peak  (%.0f pages/s, cpu %.0f)", l, k / 1024, p / s, p / c
		if (k / 1024 <= 32) printf "  target 32 MB: met\n"
		else printf "  target 32 MB: MISSED by %.0f%%\n", 100 * (k / 1024 / 32 - 1) }'
}

# kb LABEL PAGES BYTES TARGET: KB per page against a target.
kb() {
	awk -v l="$1" -v p="$2" -v b="$3" -v t="$4" 'BEGIN {
		v = b / p / 1024
		printf "  %-36s %6.2f KB/page", l, v
		if (v <= t) printf "  target %s: met\n", t
		else printf "  target %s: MISSED by %.0f%%\n", t, 100 * (v / t - 1) }'
}

# ---- 1. speed ---------------------------------------------------------------

csv=$OUT/stations.csv
gen 0 > "$csv"
N=$(($(wc -l < "$csv") - 1))
echo "1. Combined PDF, $N stations (Letter restroom poster, $(nproc) cores, best of $REPEAT)"
load
# The yardstick is the faster of ref.c's two ways to draw the code.
set -- $(measure "$REPEAT" "$REF" mask "$csv" "$OUT/ref-mask.pdf"); rm_s=$1 rm_c=$2 rm_k=$3
set -- $(measure "$REPEAT" "$REF" path "$csv" "$OUT/ref-path.pdf"); rp_s=$1 rp_c=$2 rp_k=$3
best=$(awk -v a="$rm_s" -v b="$rp_s" -v n="$N" 'BEGIN { print n / (a < b ? a : b) }')
cbest=$(awk -v a="$rm_c" -v b="$rp_c" -v n="$N" 'BEGIN { print n / (a < b ? a : b) }')
line "ref.c, QR as image mask" "$N" "$rm_s" "$rm_c" "$(size_of "$OUT/ref-mask.pdf")" "$rm_k" "$best" "$cbest"
line "ref.c, QR as merged path" "$N" "$rp_s" "$rp_c" "$(size_of "$OUT/ref-path.pdf")" "$rp_k" "$best" "$cbest"
# Two reference processes, each half the rows into its own file.
set -- $(measure "$REPEAT" sh -c "'$REF' mask '$csv' '$OUT/ref-a.pdf' 0 2 & '$REF' mask '$csv' '$OUT/ref-b.pdf' 1 2; wait")
line "ref.c mask, 2 processes" "$N" "$1" "$2" "$(size_of "$OUT/ref-a.pdf" "$OUT/ref-b.pdf")" "$3" "$best" "$cbest"
r2_s=$1
for j in 1 2; do
	t=1.5; [ "$j" = 2 ] && t=2.5
	set -- $(measure "$REPEAT" "$QRPOSTER" batch -q --force -j $j -d "$csv" --combine "$OUT/run-j$j.pdf")
	line "qrposter --combine, -j $j" "$N" "$1" "$2" "$(size_of "$OUT/run-j$j.pdf")" "$3" "$best" "$cbest" "$t"
	eval "j${j}_s=\$1"
done
# What a second process gives on this machine: the reference's own gain
# from one (the rows halved, nothing shared, no joining), applied to -j 1:
# what -j 2 would reach if it scaled as well as that.
awk -v n="$N" -v b="$best" -v r2="$r2_s" -v j1="$j1_s" -v j2="$j2_s" 'BEGIN {
	g = (n / r2) / b; lim = (n / j1) / b * g
	printf "  two processes on this machine: the reference gains %.2fx from a second; -j 1 so scaled: %.2fx; -j 2 reaches %.0f%% of that\n", g, lim, 100 * (n / j2) / b / lim }'
set -- $(measure "$REPEAT" "$QRPOSTER" batch -q --force --no-links -j 1 -d "$csv" --combine "$OUT/run-nolinks.pdf")
line "qrposter --combine --no-links, -j 1" "$N" "$1" "$2" "$(size_of "$OUT/run-nolinks.pdf")" "$3" "$best" "$cbest"
if cmp -s "$OUT/run-j1.pdf" "$OUT/run-j2.pdf"; then
	echo "  the combined PDF of -j 1 and -j 2: the same bytes"
else
	echo "  the combined PDF of -j 1 and -j 2: DIFFERENT bytes (target: the same)"
fi
kb "KB per page, links" "$N" "$(size_of "$OUT/run-j1.pdf")" 1.5
kb "KB per page, --no-links" "$N" "$(size_of "$OUT/run-nolinks.pdf")" 1.2
for j in 1 2; do
	rm -rf "$OUT/files"; mkdir -p "$OUT/files"
	set -- $(measure 3 "$QRPOSTER" batch -q --force -j $j -d "$csv" -o "$OUT/files/{{code}}.pdf")
	line "qrposter per-file PDFs, -j $j" "$N" "$1" "$2" "$(size_of "$OUT"/files/*.pdf)" "$3" "$best" "$cbest"
done
# A second run over the same inputs: everything is resumed.
set -- $(measure 3 "$QRPOSTER" batch -q -j 2 -d "$csv" -o "$OUT/files/{{code}}.pdf")
line "qrposter per-file, all unchanged" "$N" "$1" "$2" "$(size_of "$OUT"/files/*.pdf)" "$3" "$best" "$cbest"
rm -rf "$OUT/files" "$OUT"/ref-*.pdf "$OUT"/run-*.pdf
load
echo

# ---- 2. memory ----------------------------------------------------------------

echo "2. Peak memory, one combined PDF (target <= 32 MB and flat)"
load
for N in $SIZES; do
	csv=$OUT/locations-$N.csv
	gen "$N" > "$csv"
	set -- $(measure 1 "$QRPOSTER" batch -q --force -j 1 -d "$csv" --combine "$OUT/run.pdf")
	mem "$N rows, -j 1" "$N" "$@"
	case " $BLEED_SIZES " in *" $N "*)
		# Without links Cairo's PDF is the whole story: the link
		# annotations are written by pdfjoin while it joins the parts.
		set -- $(measure 1 "$QRPOSTER" batch -q --force -j 1 --no-links -d "$csv" --combine "$OUT/run.pdf")
		mem "$N rows, -j 1 --no-links" "$N" "$@"
		set -- $(measure 1 "$QRPOSTER" batch -q --force -j 1 --bleed 0.125in -d "$csv" --combine "$OUT/run.pdf")
		mem "$N rows, -j 1 --bleed 0.125in" "$N" "$@"
		set -- $(measure 1 "$QRPOSTER" batch -q --force -j 1 --marks -d "$csv" --combine "$OUT/run.pdf")
		mem "$N rows, -j 1 --marks" "$N" "$@"
	esac
	rm -f "$csv" "$OUT/run.pdf" "$OUT/run.manifest.csv"
done
load
echo

# ---- 3. PNG -------------------------------------------------------------------

csv=$OUT/locations-png.csv
gen "$PNG_N" > "$csv"
echo "3. 300-DPI PNG, $PNG_N Letter pages (2550x3300), best of $PNG_REPEAT"
load
mkdir -p "$OUT/refpng"
set -- $(measure "$PNG_REPEAT" "$REF" png "$csv" "$OUT/refpng")
refrate=$(awk -v s="$1" -v n="$PNG_N" 'BEGIN { print n / s }')
crefrate=$(awk -v s="$2" -v n="$PNG_N" 'BEGIN { print n / s }')
line "ref.c (Cairo's PNG writer)" "$PNG_N" "$1" "$2" "$(size_of "$OUT"/refpng/*.png)" "$3" "$refrate" "$crefrate"
for j in 1 2; do
	t=4; [ "$j" = 2 ] && t=
	rm -rf "$OUT/png"; mkdir -p "$OUT/png"
	set -- $(measure "$PNG_REPEAT" "$QRPOSTER" batch -q --force -j $j -d "$csv" -o "$OUT/png/{{code}}.png")
	line "qrposter, -j $j" "$PNG_N" "$1" "$2" "$(size_of "$OUT"/png/*.png)" "$3" "$refrate" "$crefrate" $t
done
rm -rf "$OUT/png" "$OUT/refpng" "$csv"
load
echo
echo "The fitted sizes: tests/test_fit.c (make test) holds every bundled template's"
echo "sizes over the shared stations to the ones recorded before fitting was made fast."
