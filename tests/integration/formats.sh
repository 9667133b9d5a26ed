#!/usr/bin/env bash
# Every output format for every layout, judged by qemu-img: `check` clean (qcow2, vdi), `info`
# reports the format, the virtual size and (compressed qcow2) the compression type, `compare`
# with the raw build of the same spec says identical. Two builds are byte-identical, and
# compressed qcow2 is the same for --threads 1 and 2. Every format/layout pair must build and
# be checked (6 layouts x 6 variants): a refused format fails the test.
. "$(dirname "$0")/../lib.sh"
require qemu-img python3

mkdir -p "$T/root/etc" "$T/root/usr/share/doc"
echo hello >"$T/root/etc/hello"
head -c 300000 /dev/urandom >"$T/root/usr/share/doc/random.bin"
seq 1 20000 >"$T/root/usr/share/doc/numbers.txt"
base=(--root "$T/root" --additional-space 4M --boot-size 110M)

# variant name, then build flags
variants=(
	"qcow2|--format qcow2"
	"qcow2-deflate|--format qcow2-compressed"
	"qcow2-zstd|--format qcow2-compressed --compression zstd"
	"vdi|--format vdi"
	"vpc|--format vpc"
	"vpc-fixed|--format vpc --vpc-subformat fixed"
)

tested=0
for layout in none legacy legacy+gpt efi efixbootldr hybrid; do
	raw=$T/$layout.img
	build "${base[@]}" --partition-table "$layout" -o "$raw"
	size=$(stat -c %s "$raw")
	for v in "${variants[@]}"; do
		name=${v%%|*}
		read -r -a flags <<<"${v#*|}"
		out=$T/$layout-$name.out
		build "${base[@]}" --partition-table "$layout" "${flags[@]}" -o "$out"
		case $name in
		qcow2*) fmt=qcow2 ;;
		*) fmt=${name%%-*} ;;
		esac
		case $fmt in
		qcow2 | vdi)
			qemu-img check -f "$fmt" "$out" >"$T/check.out" 2>&1 ||
				{ cat "$T/check.out" >&2; fail "$layout/$name: qemu-img check is not clean"; }
			;;
		esac
		# a fixed VHD has no magic at its start: qemu-img probes it as raw, and needs -f vpc
		if [ "$name" = vpc-fixed ]; then
			got=$(qemu-img info -f vpc "$out" | sed -n 's/^file format: //p')
		else
			got=$(qemu_info "$out" format)
		fi
		[ "$got" = "$fmt" ] || fail "$layout/$name: qemu-img info says format '$got', not $fmt"
		vsize=$(qemu-img info -f "$fmt" --output=json "$out" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
		if [ "$name" = vpc-fixed ]; then
			# fixed VHDs are rounded up to a whole MiB
			want=$(((size + MIB - 1) / MIB * MIB))
		else
			want=$size
		fi
		[ "$vsize" -eq "$want" ] || fail "$layout/$name: virtual size $vsize, want $want"
		case $name in
		qcow2-deflate | qcow2-zstd)
			ct=$(qemu_info "$out" format-specific.data.compression-type)
			want=${name#qcow2-}
			[ "$want" = deflate ] && want=zlib # qemu's name for raw deflate
			[ "$ct" = "$want" ] || fail "$layout/$name: compression type '$ct', want $want"
			# clusters are compressed (those that do not shrink, like our random file, stay
			# plain as qemu-img -c leaves them)
			qemu-img check -f qcow2 "$out" | grep -qE ' [1-9][0-9.]*% compressed clusters' ||
				fail "$layout/$name: no compressed clusters: $(qemu-img check "$out" | tail -n 2)"
			;;
		esac
		qemu-img compare -f raw -F "$fmt" "$raw" "$out" >"$T/cmp.out" 2>&1 ||
			{ cat "$T/cmp.out" >&2; fail "$layout/$name: differs from the raw build"; }

		# a second build, elsewhere under another name, gives the same bytes
		mkdir -p "$T/again"
		(cd "$T/again" && build "${base[@]}" --partition-table "$layout" \
			"${flags[@]}" -o "$T/again/second")
		cmp "$out" "$T/again/second" || fail "$layout/$name: two builds differ"
		rm -f "$T/again/second"
		tested=$((tested + 1))
	done
	rm -f "$T/$layout"-*.out
done

# compression threads: the output does not depend on their number
for v in "qcow2-deflate|" "qcow2-zstd|--compression zstd"; do
	name=${v%%|*}
	read -r -a flags <<<"${v#*|}"
	for n in 1 2; do
		build "${base[@]}" --partition-table efi --format qcow2-compressed "${flags[@]}" \
			--threads "$n" -o "$T/threads-$n.qcow2"
	done
	cmp "$T/threads-1.qcow2" "$T/threads-2.qcow2" || fail "$name: --threads 1 and 2 differ"
done

# -o DIR names the file as make-disk-image does
for v in "raw|img" "qcow2|qcow2" "qcow2-compressed|qcow2" "vdi|vdi" "vpc|vhd"; do
	f=${v%%|*} ext=${v#*|}
	rm -rf "$T/dir" && mkdir "$T/dir"
	build "${base[@]}" --format "$f" -o "$T/dir"
	[ -f "$T/dir/nixos.$ext" ] || fail "-o DIR with format $f: no nixos.$ext in $(ls "$T/dir")"
done

[ "$tested" -eq 36 ] || fail "$tested of 36 format/layout builds checked"
log "$tested format/layout builds checked"
