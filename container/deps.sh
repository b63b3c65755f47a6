#!/bin/sh
# deps.sh -- install the Debian packages kubezone needs, when missing.
#
# Usage: container/deps.sh SECTION...   (sections of container/packages.txt)
# Idempotent and quiet when everything is present. Needs root (or sudo)
# only when something is missing.
set -eu
here=$(dirname "$0")
list="$here/packages.txt"
[ $# -gt 0 ] || set -- build test

wanted=""
for section in "$@"; do
	line=$(sed -n "s/^$section:[[:space:]]*//p" "$list")
	[ -n "$line" ] || { echo "deps.sh: no section '$section' in $list" >&2; exit 2; }
	wanted="$wanted $line"
done

missing=""
for pkg in $wanted; do
	case "$pkg" in
	*:*)	# COMMAND:PACKAGE -- the package only when the command is absent
		command -v "${pkg%%:*}" >/dev/null 2>&1 && continue
		pkg=${pkg#*:} ;;
	esac
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac ;;
	esac
done
[ -n "$missing" ] || exit 0

echo "deps.sh: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Debian's service packages (nsd, knot, bind9, pdns-server, unbound) must
# not start system-wide daemons on this machine: kubezone and its tests
# start their own. Their maintainer scripts start them through invoke-rc.d
# (or deb-systemd-invoke where systemd runs), which both ask policy-rc.d
# first; exit 101 denies it, and the scripts go on (`|| true`), so the
# install also succeeds in a container without an init system. A
# policy-rc.d already present (Debian's container images have one) is
# left as it is.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	added_policy=1
fi
$sudo apt-get update -qq >&2 || true
rc=0
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2 || rc=$?
[ -z "$added_policy" ] || $sudo rm -f "$policy"
if [ "$rc" -ne 0 ]; then
	echo "deps.sh: apt-get install failed (exit $rc) for:$missing" >&2
	exit "$rc"
fi
