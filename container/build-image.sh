#!/bin/sh
# build-image.sh -- build the kubezone image with Debian's podman.
#
#   container/build-image.sh [IMAGE]      (default localhost/kubezone:VERSION)
#   container/build-image.sh --base       only steps 1 and 2
#
# What `make image` runs. No Docker engine or registry is needed:
#  1. the packages of the `image` section of container/packages.txt
#     (podman, runc, debootstrap) are installed when missing;
#  2. the base image KZ_BASE_IMAGE (default localhost/kubezone-base:bookworm)
#     is made once with debootstrap from this machine's own Debian mirror
#     and imported into podman's storage, where later builds find it
#     (KZ_REBUILD_BASE=1 makes it again);
#  3. container/Dockerfile is built FROM that base with runc, lowered
#     ulimits and host networking (apt inside the build reaches the mirror).
# Elsewhere, the same Dockerfile builds FROM debian:bookworm-slim with any
# OCI builder: `podman build -f container/Dockerfile .`.
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
base_only=""
if [ "${1:-}" = --base ]; then
	base_only=1
	shift
fi
image=${1:-localhost/kubezone:$version}
base=${KZ_BASE_IMAGE:-localhost/kubezone-base:bookworm}
runtime=${KZ_OCI_RUNTIME:-/usr/sbin/runc}
suite=bookworm

say() { printf 'build-image.sh: %s\n' "$*" >&2; }

container/deps.sh image

podman() {
	command podman --runtime "$runtime" "$@"
}
ulimits="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

# Debian's repositories as this machine's apt knows them: "URI SUITE COMP".
host_sources() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	    'Created-By: Packages' 2>/dev/null |
	    awk -v s="$suite" '$2 == s || index($2, s "-") == 1' | sort -u
}

make_base() {
	sources=$(host_sources)
	mirror=${KZ_DEBIAN_MIRROR:-$(printf '%s\n' "$sources" |
	    awk -v s="$suite" '$2 == s { print $1; exit }')}
	[ -n "$mirror" ] || {
		say "no Debian $suite repository in apt's sources; set KZ_DEBIAN_MIRROR"
		exit 1
	}
	tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/kubezone-base.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	say "debootstrap $suite (minbase) from $mirror"
	t0=$(date +%s)
	debootstrap --variant=minbase "$suite" "$tmp/root" "$mirror" \
	    >"$tmp/debootstrap.log" 2>&1 || {
		tail -20 "$tmp/debootstrap.log" >&2
		exit 1
	}
	# The same repositories as the host (updates and security included).
	printf '%s\n' "$sources" | awk 'NF == 3 { print "deb " $1 " " $2 " " $3 }' \
	    >"$tmp/root/etc/apt/sources.list"
	[ -s "$tmp/root/etc/apt/sources.list" ] ||
	    echo "deb $mirror $suite main" >"$tmp/root/etc/apt/sources.list"
	# Slim, as Debian's -slim images: no documentation, manual pages or
	# translations, now or in packages installed later (licences stay).
	slim="$tmp/root/etc/dpkg/dpkg.cfg.d/kubezone-slim"
	printf '%s\n' 'path-exclude=/usr/share/doc/*' \
	    'path-include=/usr/share/doc/*/copyright' \
	    'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
	    'path-exclude=/usr/share/locale/*' \
	    'path-exclude=/usr/share/lintian/*' >"$slim"
	find "$tmp/root/usr/share/doc" -mindepth 1 ! -name copyright \
	    ! -type d -delete
	find "$tmp/root/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$tmp/root/usr/share/man/"* "$tmp/root/usr/share/info/"* \
	    "$tmp/root/usr/share/locale/"* "$tmp/root/usr/share/lintian/"* \
	    "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"*.bin \
	    "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/log/"*.log \
	    "$tmp/root/var/log/apt/"*
	tar -C "$tmp/root" --numeric-owner -c . |
	    podman import --message "debootstrap --variant=minbase $suite" \
	    - "$base" >/dev/null
	rm -rf "$tmp"
	trap - EXIT
	say "base image $base made in $(($(date +%s) - t0)) s"
}

if [ "${KZ_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$base"; then
	make_base
fi
[ -z "$base_only" ] || exit 0

old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
t0=$(date +%s)
# shellcheck disable=SC2086
podman build --network=host $ulimits --build-arg "BASE=$base" \
    --build-arg "VERSION=$version" \
    -f container/Dockerfile -t "$image" .
new=$(podman image inspect --format '{{.Id}}' "$image")
# The image this one replaces, unless something else still uses it.
[ -z "$old" ] || [ "$old" = "$new" ] || podman rmi "$old" >/dev/null 2>&1 || true
size=$(podman image inspect --format '{{.Size}}' "$image")
say "$image built in $(($(date +%s) - t0)) s, $((size / 1000000)) MB"
