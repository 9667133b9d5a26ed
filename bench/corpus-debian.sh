#!/bin/bash
# Debian corpus: a minimal bookworm system with systemd, sshd and a cloud kernel (~430 MB,
# ~11k entries), made once with debootstrap into bench/work/debian and reused afterwards.
#   bench/corpus-debian.sh [--quick] [DIR]     prints the corpus directory on stdout
# --quick copies /usr/share/doc instead (no network, seconds) into bench/work/debian-quick.
# DIR.complete marks a finished corpus (outside DIR, so it is not part of the images).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi

if [ "$quick" = 1 ]; then
	dir=${1:-$here/work/debian-quick}
	if [ ! -e "$dir.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/usr/share"
		cp -a /usr/share/doc "$dir/usr/share/doc"
		touch "$dir.complete"
	fi
	echo "$dir"
	exit 0
fi

dir=${1:-$here/work/debian}
if [ -e "$dir.complete" ]; then
	echo "$dir"
	exit 0
fi

# The mirror the machine already uses (deb822 URIs: or one-line deb entries).
mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk '
	/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
	/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }')
mirror=${mirror:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || apt-get install -y debootstrap >&2
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
echo "debootstrap bookworm from $mirror into $dir" >&2
debootstrap --variant=minbase --include=systemd,openssh-server,linux-image-cloud-amd64 \
	bookworm "$dir" "$mirror" >&2
# Leave no sockets, mounts or caches that vary between runs behind.
rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"*_Packages
touch "$dir.complete"
echo "$dir"
