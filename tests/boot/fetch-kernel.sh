#!/usr/bin/env bash
# fetch-kernel.sh [ARCH [PACKAGE...]]: downloads Debian's cloud kernel for ARCH (Debian's name;
# amd64 by default) once into tests/.cache/kernel (amd64) or tests/.cache/kernel-ARCH, unpacked
# with dpkg -x together with the other PACKAGEs of that architecture (arm64: systemd-boot-efi
# for systemd-bootaa64.efi, busybox-static for bin/busybox), and prints the directory. A foreign
# ARCH needs it in apt (scripts/install-deps.sh adds arm64); nothing is installed. Exit 77 when
# it cannot be had (no apt, no network, no such architecture).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MKDISKIMAGE_CACHE:-$here/../.cache}
arch=${1:-amd64}
extra=("${@:2}")
dir=$cache/kernel
[ "$arch" = amd64 ] || dir=$cache/kernel-$arch
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
command -v apt-get >/dev/null && command -v dpkg >/dev/null || exit 77
mkdir -p "$cache"
# Tests run in parallel (JOBS): one fetches, the others wait for it and reuse its result.
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
tmp=$(mktemp -d "$cache/kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download -qq "linux-image-cloud-$arch:$arch" >/dev/null 2>&1 || exit 77
dep=$(dpkg-deb -f linux-image-cloud-"$arch"_*.deb Depends | tr ',' '\n' |
	grep -o "linux-image-[0-9][^ ]*-cloud-$arch" | head -n1)
[ -n "$dep" ] || exit 77
apt-get download -qq "$dep:$arch" "${extra[@]/%/:$arch}" >/dev/null 2>&1 || exit 77
mkdir unpacked
for p in "$dep" "${extra[@]}"; do
	dpkg -x "$p"_*.deb unpacked
done
touch unpacked/.done
rm -rf "$dir"
mv unpacked "$dir"
echo "$dir"
