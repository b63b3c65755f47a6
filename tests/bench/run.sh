#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: kubezone's speed and memory,
# next to a reference measured in the same run on the same input.
#
#   BUILD=build PYTHON=/usr/bin/python3 tests/bench/run.sh
#
# 1. Generates the synthetic cluster (tests/bench/gen_cluster.py; 10,000
#    Services, 150,000 Pods, ~10,000 EndpointSlices) into $BUILD/bench/,
#    once: the file is kept and reused while the generator and its
#    arguments stay the same.
# 2. Measures, BENCH_REPEAT times each (default 3, interleaved) and keeps
#    the median: the reference (tests/bench/jansson_parse.c: the whole
#    file as one jansson document, and item by item), then
#    `kubezone render --pod-records --out DIR`: wall time, and CPU time
#    and peak RSS from the child's rusage (wait4).
# 3. Reads the model size from `kubezone render --log-level debug`
#    (msg="model built"), loads every zone with ldns-read-zone and
#    nsd-checkzone (both must succeed), counts records and file sizes.
# 4. Runs every other tests/bench/*.py benchmark (each prints its own
#    Markdown section; they get BUILD, PYTHON, KUBEZONE (the binary),
#    KZ_BENCH_CLUSTER (the generated cluster) and KZ_BENCH_DIR).
#
# Prints Markdown on stdout (also kept in $BUILD/bench/results.md); the
# figures go into docs/benchmarks.md by hand. Exits non-zero when a
# step fails; a missed target is reported, not a failure.
#
# Environment: BENCH_ARGS (generator arguments, e.g. "--services 1000
# --pods 15000" for a quick run), BENCH_INPUT (measure this file
# instead of generating one), BENCH_REPEAT (runs per measurement),
# BENCH_ONLY=render (skip the other tests/bench/*.py benchmarks).
set -euo pipefail

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
REPEAT=${BENCH_REPEAT:-3}
GEN_ARGS=${BENCH_ARGS:-}

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

if [ -n "${BENCH_INPUT:-}" ]; then
	BENCH_INPUT=$(realpath -e "$BENCH_INPUT") || die "no such file: $BENCH_INPUT"
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

# Absolute paths: the other benchmarks get them too.
mkdir -p "$BUILD/bench"
kz=$(cd "$BUILD" && pwd)/kubezone
dir=$(cd "$BUILD/bench" && pwd)
ref=$dir/jansson_parse

[ -x "$kz" ] || die "$kz is missing (run make BUILD=$BUILD first)"
for tool in ldns-read-zone nsd-checkzone pkg-config; do
	command -v "$tool" >/dev/null || die "$tool is missing (make deps)"
done
case "$REPEAT" in ''|*[!0-9]*|0) die "BENCH_REPEAT must be a positive integer" ;; esac

# --- the reference program ----------------------------------------------

if [ ! -x "$ref" ] || [ "$here/jansson_parse.c" -nt "$ref" ]; then
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -O2 -g -Wall -Wextra -Werror \
		$(pkg-config --cflags jansson) "$here/jansson_parse.c" \
		-o "$ref" $(pkg-config --libs jansson) ||
		die "cannot build $ref"
fi

# --- the input -----------------------------------------------------------

if [ -n "${BENCH_INPUT:-}" ]; then
	cluster=$BENCH_INPUT
	[ -r "$cluster" ] || die "BENCH_INPUT=$cluster is not readable"
	gen_summary="(given file, not generated)"
else
	# The cache key: the generator's text, its arguments, the Python.
	key=$( { cat "$here/gen_cluster.py"; echo "$GEN_ARGS";
		"$PYTHON" -c 'import sys; print(sys.version)'; } |
		sha256sum | cut -c1-12)
	slug=$(echo "default $GEN_ARGS" | tr -c 'a-zA-Z0-9\n' '-' |
		tr -s '-' | sed 's/-$//')
	cluster=$dir/cluster-$slug-$key.json
	if [ ! -s "$cluster" ] || [ ! -s "$cluster.summary" ]; then
		# A generator change leaves the old file behind: drop it.
		rm -f "$dir/cluster-$slug-"????????????.json \
			"$dir/cluster-$slug-"????????????.json.summary
		note "generating $cluster (gen_cluster.py $GEN_ARGS)"
		# shellcheck disable=SC2086
		"$PYTHON" "$here/gen_cluster.py" $GEN_ARGS --out "$cluster.tmp" \
			2> "$cluster.summary.tmp" ||
			{ cat "$cluster.summary.tmp" >&2; rm -f "$cluster.tmp"; die "generator failed"; }
		mv "$cluster.summary.tmp" "$cluster.summary"
		mv "$cluster.tmp" "$cluster"
	fi
	gen_summary=$(cat "$cluster.summary")
fi
input_bytes=$(stat -c %s "$cluster")

# --- measuring -----------------------------------------------------------

# measure OUT ERR CMD...: run CMD once with stdout to OUT and stderr to
# ERR; print "WALL_SECONDS PEAK_RSS_KIB CPU_SECONDS" and return CMD's
# exit status. The peak RSS and the CPU time (user + system) are the
# child's own, from wait4(); CPU time is less sensitive than wall time
# to other work on the machine.
measure_py='
import os, subprocess, sys, time
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=o, stderr=e)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
print("%.3f %d %.3f" % (wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status) & 255)
'
measure() { "$PYTHON" -c "$measure_py" "$@"; }

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
		  else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# record NAME OUT CMD...: run CMD once (stdout to OUT), appending its
# wall time, peak RSS and CPU time to $dir/NAME.wall, .rss and .cpu.
record() {
	local name=$1 out=$2
	shift 2
	local res
	res=$(measure "$out" "$dir/$name.err" "$@") || {
		cat "$dir/$name.err" >&2
		die "$name failed: $*"
	}
	local wall rss cpu
	read -r wall rss cpu <<< "$res"
	echo "$wall" >> "$dir/$name.wall"
	echo "$rss" >> "$dir/$name.rss"
	echo "$cpu" >> "$dir/$name.cpu"
}

series="parse items render"
for s in $series; do rm -f "$dir/$s.wall" "$dir/$s.rss" "$dir/$s.cpu"; done
zones=$dir/zones

load0=$(cut -d' ' -f1-3 /proc/loadavg)
# The source the binary was presumably built from: HEAD now, at the start.
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- zonegen common syncer 2>/dev/null)" ] ||
	rev="$rev with uncommitted changes"
note "input: $cluster ($input_bytes bytes); warming the page cache"
cat "$cluster" > /dev/null

for i in $(seq "$REPEAT"); do
	note "run $i/$REPEAT: jansson whole document"
	record parse "$dir/parse.out" "$ref" "$cluster"
	note "run $i/$REPEAT: jansson item by item"
	record items "$dir/items.out" "$ref" --items "$cluster"
	note "run $i/$REPEAT: kubezone render --pod-records"
	rm -rf "$zones"
	mkdir -p "$zones"
	record render /dev/null "$kz" render --pod-records --out "$zones" "$cluster"
done

# Every run read the same items.
parse_counts=$(cat "$dir/parse.out")
items_counts=$(cat "$dir/items.out")
[ "$parse_counts" = "$items_counts" ] ||
	die "the two reference modes disagree: '$parse_counts' vs '$items_counts'"
nitems=$(sed -n 's/^items=\([0-9]*\).*/\1/p' <<< "$parse_counts")
summary=$(grep '^render:' "$dir/render.err" | tail -n 1)
kz_objects=$(sed -n 's/^render: \([0-9]*\) objects read.*/\1/p' <<< "$summary")
[ "$kz_objects" = "$nitems" ] ||
	die "kubezone read ${kz_objects:-?} objects, jansson $nitems ($summary)"

note "model size: kubezone render --log-level debug"
rm -rf "$zones.debug"
mkdir -p "$zones.debug"
"$kz" render --log-level debug --pod-records --out "$zones.debug" "$cluster" \
	> /dev/null 2> "$dir/debug.err" || { cat "$dir/debug.err" >&2; die "debug render failed"; }
rm -rf "$zones.debug"
model_bytes=$(sed -n 's/.*msg="model built".* bytes=\([0-9]*\).*/\1/p' \
	"$dir/debug.err" | head -n 1)
if [ -z "$model_bytes" ]; then
	note 'no msg="model built" line at debug level: model size not reported'
fi

# --- reading the zones back ----------------------------------------------

zone_rows=""
total_records=0
total_zone_bytes=0
for f in "$zones"/*.zone; do
	[ -e "$f" ] || die "render wrote no zone into $zones"
	z=$(basename "$f" .zone)
	for i in $(seq "$REPEAT"); do
		record "ldns.$z" /dev/null ldns-read-zone "$f"
		record "nsd.$z" /dev/null nsd-checkzone "$z" "$f"
	done
	# Every line that is not a directive, a comment or blank is a record.
	nrec=$(grep -cv -e '^\$' -e '^;' -e '^[[:space:]]*$' "$f")
	bytes=$(stat -c %s "$f")
	total_records=$((total_records + nrec))
	total_zone_bytes=$((total_zone_bytes + bytes))
	zone_rows+="| \`$z.\` | $nrec | $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
	zone_rows+=" | $(median "$dir/ldns.$z.wall") | $(median "$dir/nsd.$z.wall")"
	zone_rows+=" | $(awk -v k="$(median "$dir/nsd.$z.rss")" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }') |"$'\n'
	rm -f "$dir/ldns.$z."* "$dir/nsd.$z."*
done

# --- the report ----------------------------------------------------------

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() {	# verdict VALUE OP LIMIT
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	    ok = (op == "<=") ? (v <= l) : (v < l);
	    print ok ? "met" : "**MISSED**" }'
}

p_wall=$(median "$dir/parse.wall");  p_cpu=$(median "$dir/parse.cpu")
i_wall=$(median "$dir/items.wall");  i_cpu=$(median "$dir/items.cpu")
r_wall=$(median "$dir/render.wall"); r_cpu=$(median "$dir/render.cpu")
p_rss=$(median "$dir/parse.rss")
i_rss=$(median "$dir/items.rss")
r_rss=$(median "$dir/render.rss")
t_ratio=$(ratio "$r_wall" "$p_wall")
m_ratio=$(ratio "$r_rss" "$p_rss")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
ram=$(awk '/^MemTotal:/ { printf "%.1f GB", $2 * 1024 / 1e9 }' /proc/meminfo)

report=$dir/results.md
{
cat <<EOF
## Render

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $("$kz" version 2>/dev/null | head -n 1) at $rev
- Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $ram RAM, Linux $(uname -r); load average at the start $load0
- Libraries: jansson $(pkg-config --modversion jansson), ldns $(pkg-config --modversion ldns), $(nsd -v 2>&1 | head -n 1)
- Input: $(awk -v b="$input_bytes" 'BEGIN { printf "%.0f", b / 1e6 }') MB, $parse_counts
- Generator: $gen_summary
- Runs per measurement: $REPEAT, interleaved, the median shown; peak RSS is the process's maximum resident set (wait4 rusage); MB = 10^6 bytes.

| what | wall time (s) | CPU time (s) | peak RSS (MB) |
|---|---:|---:|---:|
| jansson, whole document (\`json_load_file\`): the reference | $p_wall | $p_cpu | $(mb "$p_rss") |
| jansson, item by item (\`json_loadb\` per item) | $i_wall | $i_cpu | $(mb "$i_rss") |
| \`kubezone render --pod-records --out DIR\` | $r_wall | $r_cpu | $(mb "$r_rss") |

| target | measured | limit | |
|---|---:|---:|---|
| render time / jansson whole-document time | $t_ratio | 1.00 | $(verdict "$t_ratio" "<=" 1.0) |
| render peak RSS / jansson whole-document peak RSS | $m_ratio | 0.20 | $(verdict "$m_ratio" "<=" 0.2) |
EOF
if [ -n "$model_bytes" ]; then
	echo "| in-memory model (msg=\"model built\" bytes) | $(awk -v b="$model_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') | 64 MB | $(verdict "$model_bytes" "<" 64000000) |"
else
	echo "| in-memory model (msg=\"model built\" bytes) | not logged | 64 MB | **not measured** |"
fi
cat <<EOF

For comparison: render / whole-document CPU time $(ratio "$r_cpu" "$p_cpu"); render / item-by-item wall time $(ratio "$r_wall" "$i_wall"), CPU time $(ratio "$r_cpu" "$i_cpu"), peak RSS $(ratio "$r_rss" "$i_rss").

Zones written by the render, read back (median seconds of $REPEAT runs; every zone loads without error):

| zone | records | file (MB) | \`ldns-read-zone\` (s) | \`nsd-checkzone\` (s) | \`nsd-checkzone\` peak RSS (MB) |
|---|---:|---:|---:|---:|---:|
${zone_rows}| all | $total_records | $(awk -v b="$total_zone_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') | | | |

kubezone's summary: \`$summary\`
EOF
} | tee "$report"

# --- the other benchmarks ------------------------------------------------

status=0
export BUILD PYTHON KUBEZONE=$kz KZ_BENCH_CLUSTER=$cluster KZ_BENCH_DIR=$dir
for script in "$here"/*.py; do
	[ -e "$script" ] || continue
	[ "${BENCH_ONLY:-}" = render ] && break
	[ "$(basename "$script")" = gen_cluster.py ] && continue
	note "running $(basename "$script")"
	echo
	if ! "$PYTHON" "$script" | tee -a "$report"; then
		note "$(basename "$script") failed"
		status=1
	fi
done
exit $status
