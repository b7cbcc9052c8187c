#!/bin/sh
# Run each cmocka test program given on the command line from the top of
# the source tree, with QRPOSTER naming the binary under test, and end with
# one total line. Exit non-zero if any program failed.
QRPOSTER=${QRPOSTER:-./qrposter}
export QRPOSTER
export CMOCKA_MESSAGE_OUTPUT=stdout
passed=0 failed=0 bad=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$t: exited with status $rc"; bad=$((bad + 1))
	fi
done
echo "$passed passed, $((failed + bad)) failed"
[ "$failed" -eq 0 ] && [ "$bad" -eq 0 ]
