#!/bin/sh
# check.sh -- run kubezone's tests and end with one summary line.
#
#   tests/check.sh [unit|fuzz|system|all]   (default all)
#
# Unit tests are the cmocka binaries $BUILD/tests/test_*; fuzz replays run
# each fuzz target $BUILD/tests/fuzz_NAME over its committed corpus
# tests/fuzz/corpus/NAME (one test per target); system tests are pytest
# files under tests/system, run with Debian's Python. The last line is
# "check: N passed, N failed, N skipped".
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
what=${1:-all}
passed=0 failed=0 skipped=0
failures=""

run_unit() {
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out=$("$t" 2>&1)
		rc=$?
		printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR|PASSED|SKIPPED)' | sed "s/^/$name: /"
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
		passed=$((passed + ${p:-0}))
		skipped=$((skipped + ${s:-0}))
		if [ "$rc" -ne 0 ] || [ -n "$f" ]; then
			printf '%s\n' "$out" | tail -40
			failed=$((failed + ${f:-1}))
			failures="$failures $name"
		fi
	done
}

run_fuzz() {
	for t in "$BUILD"/tests/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out=$("$t" "tests/fuzz/corpus/${name#fuzz_}" 2>&1)
		rc=$?
		printf '%s\n' "$out" | tail -1
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
		else
			printf '%s\n' "$out" | tail -40
			failed=$((failed + 1))
			failures="$failures $name"
		fi
	done
}

run_system() {
	if ! "$PYTHON" -c 'import pytest, dns' 2>/dev/null; then
		echo "check: $PYTHON lacks pytest or dnspython (run container/deps.sh test)" >&2
		failed=$((failed + 1))
		failures="$failures system"
		return
	fi
	log="$BUILD/pytest.log"
	mkdir -p "$BUILD"
	KUBEZONE="$BUILD/kubezone" BUILD="$BUILD" "$PYTHON" -m pytest -q \
		-p no:cacheprovider tests/system 2>&1 | tee "$log"
	last=$(grep -E '(passed|failed|error|skipped|no tests ran)' "$log" | tail -1)
	p=$(printf '%s' "$last" | sed -n 's/.* \{0,1\}\([0-9][0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$last" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p;s/^\([0-9][0-9]*\) failed.*/\1/p' | head -1)
	e=$(printf '%s' "$last" | sed -n 's/.* \([0-9][0-9]*\) error.*/\1/p;s/^\([0-9][0-9]*\) error.*/\1/p' | head -1)
	s=$(printf '%s' "$last" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p;s/^\([0-9][0-9]*\) skipped.*/\1/p' | head -1)
	p=$(printf '%s' "$last" | sed -n 's/^\([0-9][0-9]*\) passed.*/\1/p;s/.* \([0-9][0-9]*\) passed.*/\1/p' | head -1)
	passed=$((passed + ${p:-0}))
	skipped=$((skipped + ${s:-0}))
	nf=$(( ${f:-0} + ${e:-0} ))
	if [ "$nf" -gt 0 ] || [ -z "$last" ]; then
		failed=$((failed + (nf > 0 ? nf : 1)))
		failures="$failures system"
	fi
}

case "$what" in
unit) run_unit; run_fuzz ;;
fuzz) run_fuzz ;;
system) run_system ;;
all) run_unit; run_fuzz; run_system ;;
*) echo "usage: $0 [unit|fuzz|system|all]" >&2; exit 2 ;;
esac

[ -z "$failures" ] || echo "check: failing:$failures"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
