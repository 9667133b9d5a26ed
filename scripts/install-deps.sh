#!/usr/bin/env bash
# Installs everything mkdiskimage needs to build and to test, from Debian's packages.
# Run as root (CI is root); safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
pkgs=(
	# build
	build-essential pkg-config zlib1g-dev nettle-dev libjson-c-dev libzstd-dev
	libdeflate-dev libarchive-dev liblzma-dev liblz4-dev
	libsqlite3-dev
	# make fuzz: libFuzzer harnesses (clang -fsanitize=fuzzer)
	clang libclang-rt-14-dev
	# test oracles
	e2fsprogs gdisk fdisk util-linux qemu-utils attr acl libcap2-bin debootstrap
	python3 xxd procps
	grub-pc-bin grub-efi-amd64-bin qemu-system-x86 seabios busybox-static
	nix-bin sqlite3
	jq
	dosfstools mtools systemd-boot-efi
	# legacy-boot.sh: the table make-disk-image's parted writes, as an oracle
	parted
	ovmf
	qemu-system-arm qemu-efi-aarch64
	# boot-extlinux.sh: U-Boot (qemu_arm64) reading /boot/extlinux/extlinux.conf
	u-boot-qemu
	# cli-docs.sh: the generated man page and completions, rendered and exercised
	man-db groff bash-completion zsh fish
	# pack.sh: compressed raw, gce and ova judged by the stock tools
	zstd xz-utils gzip tar libxml2-utils
	# erofs.sh, bench/erofs.sh: fsck.erofs, dump.erofs, mkfs.erofs
	erofs-utils
)
# arm64 package lists: tests/boot/fetch-arm64.sh apt-get downloads (never installs) the arm64
# kernel, systemd-boot and busybox for tests/integration/boot-aarch64.sh.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$sudo dpkg --add-architecture arm64
	$sudo apt-get update -qq
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
