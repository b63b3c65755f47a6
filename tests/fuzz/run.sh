#!/bin/sh
# run.sh -- run libFuzzer targets for a bounded time and summarise.
#
#   tests/fuzz/run.sh BUILD_DIR TARGET...     (FUZZ_SECONDS, default 60)
#
# Each BUILD_DIR/fuzz/TARGET starts from its committed seeds
# (tests/fuzz/corpus/NAME, read only) plus what earlier runs found
# (BUILD_DIR/corpus/NAME, where new inputs go). A crash leaves its input
# in BUILD_DIR/crashes/; copy it into the committed corpus as crash-*
# once the bug is fixed. Ends with one line per target: executions,
# executions per second, corpus size, and "ok" or "CRASH".
set -u
build=$1
shift
secs=${FUZZ_SECONDS:-60}
status=0
summary=""
mkdir -p "$build/crashes"
for t in "$@"; do
	name=${t#fuzz_}
	mkdir -p "$build/corpus/$name"
	log="$build/$t.log"
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "fuzz: $t for ${secs}s"
	"$build/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=20 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$build/crashes/$name-" $dict \
		"$build/corpus/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	units=$(ls "$build/corpus/$name" "tests/fuzz/corpus/$name" | grep -vc ':$')
	if [ "$rc" -eq 0 ]; then
		res=ok
	else
		res=CRASH
		status=1
		grep -E 'ERROR|check failed|SUMMARY|Test unit written' "$log" | head -5
	fi
	line=$(printf '%-18s %12s execs %8s/s %6s inputs  %s' "$t" \
		"${execs:-?}" "${rate:-?}" "$units" "$res")
	echo "$line"
	summary="$summary$line
"
done
printf '\nfuzz summary (%ss each):\n%s' "$secs" "$summary"
exit $status
