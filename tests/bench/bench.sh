#!/bin/sh
# make bench: qrposter batch against a bare-library reference (ref.c), on
# CSVs of N locations generated at run time from the station list in
# $BENCH_DATA (default: the project's shared/data/stations.csv beside the
# repository, as CI and the developers' machines lay it out; not copied
# into the repository). Prints pages/s, KB/page, peak memory (the largest process,
# from /usr/bin/time) and ratios to the faster reference variant.
#
#   QRPOSTER=./qrposter REF=build/bench-ref sh tests/bench/bench.sh [N...]
set -eu
QRPOSTER=${QRPOSTER:-./qrposter}
REF=${REF:-build/bench-ref}
DATA=${BENCH_DATA:-../shared/data/stations.csv}
PNG_N=${BENCH_PNG_N:-24}
OUT=${BENCH_OUT:-tests/bench/out}
export QRPOSTER_DATADIR=${QRPOSTER_DATADIR:-$(pwd)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
[ $# -gt 0 ] || set -- 1000 10000
[ -r "$DATA" ] || { echo "bench: no station list at $DATA (set BENCH_DATA)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"

# N rows: every station, then again as restroom 2, platform 3, ...
gen() {
	awk -F, -v n="$1" 'BEGIN { m = 0 } NR > 1 { code[m] = $1; name[m] = $2; m++ }
	END {
		split("R,P,C,G", kind, ","); split("restroom,platform,concourse,gate", word, ",")
		print "code,name"
		for (i = 0; i < n; i++) {
			s = i % m; r = int(i / m); k = r % 4 + 1
			printf "%s-%s%d,%s station %s %d\n", code[s], kind[k], r + 1, name[s], word[k], r + 1
		}
	}' "$DATA"
}

# measure CMD...: run CMD $REPEAT times (the machine may be shared: the
# fastest run is the one least disturbed); print the best elapsed seconds
# and the largest peak RSS (KB) of any process of any run. Commands that
# write files are given --force where they resume.
REPEAT=${BENCH_REPEAT:-3}
T=$OUT/.time
measure() {
	best= peak=0
	for r in $(seq "$REPEAT"); do
		/usr/bin/time -f "%e %M" -o "$T" "$@" >/dev/null 2>"$OUT/.err" || {
			echo "bench: failed: $*" >&2; cat "$OUT/.err" >&2; exit 1; }
		e=$(tail -1 "$T" | cut -d' ' -f1); m=$(tail -1 "$T" | cut -d' ' -f2)
		best=$(awk -v a="$best" -v b="$e" 'BEGIN { print (a == "" || b < a) ? b : a }')
		[ "$m" -gt "$peak" ] && peak=$m
	done
	echo "$best $peak"
}

size_of() { du -sb --apparent-size "$@" | awk '{s += $1} END {print s}'; }

line() { # label pages seconds bytes kb-peak ratio-base
	awk -v l="$1" -v p="$2" -v s="$3" -v b="$4" -v k="$5" -v base="$6" 'BEGIN {
		r = p / s; printf (r < 100 ? "  %-34s %8.1f" : "  %-34s %8.0f"), l, r
		printf " pages/s %7.2f KB/page %7.1f MB peak", b / p / 1024, k / 1024
		if (base > 0) printf "   %.2fx", r / base
		printf "\n" }'
}

for N in "$@"; do
	csv=$OUT/locations-$N.csv
	gen "$N" > "$csv"
	echo "N = $N (Letter restroom poster, $(nproc) cores)"

	set -- $(measure "$REF" mask "$csv" "$OUT/ref-mask.pdf"); rm_s=$1; rm_k=$2
	set -- $(measure "$REF" path "$csv" "$OUT/ref-path.pdf"); rp_s=$1; rp_k=$2
	best=$(awk -v a="$rm_s" -v b="$rp_s" -v n="$N" 'BEGIN { print n / (a < b ? a : b) }')
	line "reference, QR as image mask" "$N" "$rm_s" "$(size_of "$OUT/ref-mask.pdf")" "$rm_k" "$best"
	line "reference, QR as merged path" "$N" "$rp_s" "$(size_of "$OUT/ref-path.pdf")" "$rp_k" "$best"
	# Two reference processes, each half the rows into its own file.
	set -- $(measure sh -c "'$REF' mask '$csv' '$OUT/ref-a.pdf' 0 2 & '$REF' mask '$csv' '$OUT/ref-b.pdf' 1 2; wait")
	line "reference mask, 2 processes" "$N" "$1" "$(size_of "$OUT/ref-a.pdf" "$OUT/ref-b.pdf")" "$2" "$best"

	for j in 1 2; do
		set -- $(measure "$QRPOSTER" batch -q --force -j $j -d "$csv" --combine "$OUT/run.pdf")
		line "qrposter --combine, -j $j" "$N" "$1" "$(size_of "$OUT/run.pdf")" "$2" "$best"
	done
	set -- $(measure "$QRPOSTER" batch -q --force --no-links -j 1 -d "$csv" --combine "$OUT/run.pdf")
	line "qrposter --combine --no-links -j 1" "$N" "$1" "$(size_of "$OUT/run.pdf")" "$2" "$best"
	for j in 1 2; do
		rm -rf "$OUT/files"; mkdir -p "$OUT/files"
		set -- $(measure "$QRPOSTER" batch -q --force -j $j -d "$csv" -o "$OUT/files/{{code}}.pdf")
		line "qrposter per-file PDFs, -j $j" "$N" "$1" "$(size_of "$OUT"/files/*.pdf)" "$2" "$best"
	done
	# A second run over the same inputs: everything is resumed.
	set -- $(measure "$QRPOSTER" batch -q -j 2 -d "$csv" -o "$OUT/files/{{code}}.pdf")
	line "qrposter per-file, all unchanged" "$N" "$1" "$(size_of "$OUT"/files/*.pdf)" "$2" "$best"
	rm -rf "$OUT/files"
	echo
done

# 300-DPI PNG: a few pages are enough to measure.
csv=$OUT/locations-png.csv
gen "$PNG_N" > "$csv"
echo "300-DPI PNG, $PNG_N Letter pages (2550x3300)"
mkdir -p "$OUT/refpng"
set -- $(measure "$REF" png "$csv" "$OUT/refpng"); ref_s=$1
refrate=$(awk -v s="$1" -v n="$PNG_N" 'BEGIN { print n / s }')
line "reference (Cairo's PNG writer)" "$PNG_N" "$1" "$(size_of "$OUT"/refpng/*.png)" "$2" "$refrate"
for j in 1 2; do
	rm -rf "$OUT/png"; mkdir -p "$OUT/png"
	set -- $(measure "$QRPOSTER" batch -q --force -j $j -d "$csv" -o "$OUT/png/{{code}}.png")
	line "qrposter (libpng), -j $j" "$PNG_N" "$1" "$(size_of "$OUT"/png/*.png)" "$2" "$refrate"
done
rm -rf "$OUT/png" "$OUT/refpng"
