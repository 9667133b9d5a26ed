#!/usr/bin/env bash
# Downloads Debian's cloud kernel once into tests/.cache/kernel (unpacked with dpkg -x) and
# prints the unpacked directory. Exit 77 when it cannot be had (no apt, no network).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MKDISKIMAGE_CACHE:-$here/../.cache}
dir=$cache/kernel
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
command -v apt-get >/dev/null && command -v dpkg >/dev/null || exit 77
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download -qq linux-image-cloud-amd64 >/dev/null 2>&1 || exit 77
dep=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends | tr ',' '\n' |
	grep -o 'linux-image-[0-9][^ ]*-cloud-amd64' | head -n1)
[ -n "$dep" ] || exit 77
apt-get download -qq "$dep" >/dev/null 2>&1 || exit 77
mkdir unpacked
dpkg -x "$dep"_*.deb unpacked
touch unpacked/.done
rm -rf "$dir"
mv unpacked "$dir"
echo "$dir"
