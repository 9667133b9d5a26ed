#!/usr/bin/env bash
# `mkdiskimage inspect` on crafted hostile UEFI variable stores (tests/integration/mkefistore.py):
# 64 KiB device paths of 4-byte nodes, and ~1M variables in deleted transition. Both used to be
# quadratic; this prints wall/user seconds and peak RSS per store size, text and --json.
# usage: bench/inspect-efivars.sh [MKDISKIMAGE] [SIZE_MIB...]   (default: build/mkdiskimage 8 128)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mki=${1:-$here/../build/mkdiskimage}
shift || true
sizes=("${@:-8 128}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '| store | kind | variables | mode | wall s | user s | peak RSS MiB |\n|---|---|---|---|---|---|---|\n'
for mib in ${sizes[*]}; do
	for kind in devpath transition; do
		n=$(python3 "$here/../tests/integration/mkefistore.py" "$kind" $((mib << 20)) "$work/s.fd")
		for mode in text json; do
			args=(inspect "$work/s.fd")
			[ "$mode" = json ] && args=(inspect --json "$work/s.fd")
			/usr/bin/time -f '%e %U %M' -o "$work/t" "$mki" "${args[@]}" >/dev/null
			read -r wall user rss <"$work/t"
			printf '| %s MiB | %s | %s | %s | %s | %s | %s |\n' "$mib" "$kind" "$n" "$mode" \
				"$wall" "$user" $((rss / 1024))
		done
	done
done
