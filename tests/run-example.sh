#!/bin/sh
# run-example.sh -- what `make run` calls: serve an example cluster.
#
#   tests/run-example.sh KUBEZONE SNAPSHOT
#
# Serves SNAPSHOT through kubezone sync and NSD on 127.0.0.1:5353 with a
# temporary state directory, removed on exit. Edit SNAPSHOT while it
# runs to see the zones follow. Ctrl-C stops everything.
set -eu
bin=${1:-build/kubezone}
snapshot=${2:-examples/cluster.json}
listen=${KZ_LISTEN:-127.0.0.1:5353}
port=${listen##*:}

[ -x "$bin" ] || { echo "run-example.sh: $bin is not built (run make)" >&2; exit 1; }
[ -r "$snapshot" ] || { echo "run-example.sh: cannot read $snapshot" >&2; exit 1; }

state=$(mktemp -d "${TMPDIR:-/tmp}/kubezone-run.XXXXXX")
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat <<MSG
kubezone serves $snapshot on $listen (state in $state).
Try, from another terminal:

  dig @127.0.0.1 -p $port web.shop.svc.cluster.local A
  dig @127.0.0.1 -p $port _postgres._tcp.db.data.svc.cluster.local SRV
  dig @127.0.0.1 -p $port cluster.local AXFR

Edit $snapshot to see the zones change; Ctrl-C stops.

MSG
"$bin" sync --snapshot "$snapshot" --listen "$listen" --state-dir "$state" \
	--http off &
pid=$!
wait "$pid"
