#!/usr/bin/env bash
# `mkdiskimage inspect` says what boots: GRUB for BIOS (core.img in the MBR gap or the BIOS boot
# partition), GRUB for UEFI and systemd-boot on the removable path, loader.conf's default and
# timeout, the loader entries (ESP and XBOOTLDR). Oracles: od/dd/cmp on the image for core.img's
# place and extent, mtools (mdir, mtype) on the ESP for the files, entries and loader.conf.
# `boot-test` refuses an image with nothing to boot before starting QEMU.
# quick
. "$(dirname "$0")/../lib.sh"
require python3 mdir mtype od dd cmp sfdisk blkid
export MTOOLS_SKIP_CHECK=1
grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
grub_efi_dir=${GRUB_EFI_DIR:-/usr/lib/grub/x86_64-efi}
sdboot=${SYSTEMD_BOOT_EFI:-/usr/lib/systemd/boot/efi/systemd-bootx64.efi}
mkdir -p "$T/root/etc"
echo hi >"$T/root/etc/hostname"
printf 'not a kernel\n' >"$T/kernel"
common=(--root "$T/root" --disk-size 64M --boot-size 24M --kernel "$T/kernel")

# jq-less JSON field: jget FILE EXPR (python expression on j)
jget() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

inspect_both()
{
	"$MKDISKIMAGE" inspect "$1" >"$T/$2.txt" || fail "$2: inspect failed"
	"$MKDISKIMAGE" inspect --json "$1" >"$T/$2.json" || fail "$2: inspect --json failed"
}

# GRUB for BIOS: where core.img is, checked against the bytes
if [ -f "$grub_dir/boot.img" ]; then
	for layout in legacy legacy+gpt; do
		name=${layout/+/-}
		img=$T/$name.img
		build "${common[@]}" --bootloader grub --grub-dir "$grub_dir" --partition-table "$layout" -o "$img"
		inspect_both "$img" "$name"
		read -r first n place loader prefix ruuid < <(jget "$T/$name.json" \
			'" ".join(str(x) for x in ([j["boot"]["bios"]["coreImg"][k] for k in ("firstSector", "sectors", "place")] + [j["boot"]["bios"]["loader"], j["boot"]["bios"]["coreImg"]["prefix"], j["boot"]["bios"]["coreImg"]["rootUuid"]]))')
		# the early config's search finds the root filesystem (blkid's UUID)
		extract_partition "$img" "$([ "$layout" = legacy ] && echo 1 || echo 2)" "$T/rootfs"
		[ "$ruuid" = "$(blkid -p -o value -s UUID "$T/rootfs")" ] ||
			fail "$name: core.img searches UUID $ruuid, the root is $(blkid -p -o value -s UUID "$T/rootfs")"
		rm -f "$T/rootfs"
		[ "$loader" = grub ] || fail "$name: loader $loader"
		# the prefix grub-mkimage -p embeds (build's early config: ($root)/boot/grub)
		[ "$prefix" = /boot/grub ] || fail "$name: core.img prefix $prefix"
		# boot.img's pointer (0x5c) and diskboot.img's block list (sector end - 12)
		[ "$(od -An -t u8 -j $((0x5c)) -N 8 "$img" | tr -d ' ')" = "$first" ] ||
			fail "$name: inspect's core.img LBA $first is not boot.img's"
		[ "$(od -An -t u8 -j $((first * 512 + 500)) -N 8 "$img" | tr -d ' ')" = $((first + 1)) ] ||
			fail "$name: block list does not start after sector $first"
		[ "$(od -An -t u2 -j $((first * 512 + 508)) -N 2 "$img" | tr -d ' ')" = $((n - 1)) ] ||
			fail "$name: block list length is not $((n - 1))"
		# the last sector inspect names holds data (parity), the gap after it is empty
		! cmp -s <(dd if="$img" bs=512 skip=$((first + n - 1)) count=1 status=none) \
			<(head -c 512 /dev/zero) || fail "$name: core.img's last sector is empty"
		case $layout in
		legacy)
			[ "$place" = mbr-gap ] && [ "$first" = 1 ] || fail "$name: place $place at $first"
			cmp <(dd if="$img" bs=512 skip=$((first + n)) count=$((2048 - first - n)) status=none) \
				<(head -c $(((2048 - first - n) * 512)) /dev/zero) ||
				fail "$name: data after core.img's $n sectors in the MBR gap"
			grep -q "BIOS: GRUB, core.img at sectors 1\.\.$n (MBR gap), prefix /boot/grub, root by UUID $ruuid" "$T/$name.txt" ||
				fail "$name: text: $(grep BIOS "$T/$name.txt")"
			;;
		legacy+gpt)
			[ "$place" = bios-boot-partition ] && [ "$first" = 2048 ] || fail "$name: $place at $first"
			grep -q "partition 1: BIOS boot, bytes 1048576..2097152 (1 MiB)" "$T/$name.txt" ||
				fail "$name: BIOS boot partition line"
			grep -q "GRUB core.img, $n sectors" "$T/$name.txt" || fail "$name: BIOS boot contents"
			grep -q "(BIOS boot partition 1)" "$T/$name.txt" || fail "$name: text place"
			;;
		esac
		log "$name: GRUB core.img at $first, $n sectors ($place)"
	done
else
	skip_case "GRUB i386-pc cases (no $grub_dir/boot.img)"
fi

# systemd-boot on efi and efixbootldr: files and entries as mtools reads them
if [ -f "$sdboot" ]; then
	for layout in efi efixbootldr; do
		img=$T/$layout-sd.img
		sizes=()
		[ "$layout" = efixbootldr ] && sizes=(--disk-size 160M --boot-size 120M)
		build "${common[@]}" "${sizes[@]}" --bootloader systemd-boot \
			--systemd-boot-efi "$sdboot" --partition-table "$layout" -o "$img"
		inspect_both "$img" "$layout-sd"
		extract_partition "$img" 1 "$T/esp"
		entries_part=1
		[ "$layout" = efixbootldr ] && { extract_partition "$img" 2 "$T/xb"; entries_part=2; }
		src=$T/esp
		[ "$layout" = efixbootldr ] && src=$T/xb
		size=$(mdir -i "$T/esp" -b ::/EFI/BOOT/ >/dev/null && stat -c %s "$sdboot")
		python3 - "$T/$layout-sd.json" "$size" "$entries_part" <<'PY' || fail "$layout: boot object"
import json, sys
b = json.load(open(sys.argv[1]))["boot"]
u = b["uefi"]
assert u["esp"] == 1 and u["removablePath"], u
assert u["removable"][0]["path"] == "EFI/BOOT/BOOTX64.EFI", u
assert u["removable"][0]["loader"].startswith("systemd-boot "), u
assert u["removable"][0]["size"] == int(sys.argv[2]), u
assert u["systemdBoot"]["path"] == "EFI/systemd/systemd-bootx64.efi", u
assert len(u["entries"]) == 1 and u["entries"][0]["partition"] == int(sys.argv[3]), u
assert u["entries"][0]["default"], u
assert not b["bios"]["mbrBootCode"] and "problem" not in b, b
PY
		# the oracle: mtools' view of the files inspect named
		mtype -i "$T/esp" ::/loader/loader.conf >"$T/loader.conf"
		def=$(sed -n 's/^default[[:space:]]*//p' "$T/loader.conf")
		tmo=$(sed -n 's/^timeout[[:space:]]*//p' "$T/loader.conf")
		[ "$(jget "$T/$layout-sd.json" 'j["boot"]["uefi"]["loaderConf"]["default"]')" = "$def" ] ||
			fail "$layout: default is not loader.conf's $def"
		[ "$(jget "$T/$layout-sd.json" 'j["boot"]["uefi"]["loaderConf"]["timeout"]')" = "$tmo" ] ||
			fail "$layout: timeout is not loader.conf's $tmo"
		ent=$(mdir -i "$src" -b ::/loader/entries/ | sed 's|.*/||')
		[ "$(jget "$T/$layout-sd.json" 'j["boot"]["uefi"]["entries"][0]["file"]')" = "$ent" ] ||
			fail "$layout: entry is not mdir's $ent"
		mtype -i "$src" "::/loader/entries/$ent" >"$T/entry.conf"
		lin=$(sed -n 's/^linux[[:space:]]*//p' "$T/entry.conf")
		tit=$(sed -n 's/^title[[:space:]]*//p' "$T/entry.conf")
		[ "$(jget "$T/$layout-sd.json" 'j["boot"]["uefi"]["entries"][0]["linux"]')" = "$lin" ] ||
			fail "$layout: linux is not the entry's $lin"
		grep -qF "entry $ent (partition $entries_part): title \"$tit\", linux $lin [default]" \
			"$T/$layout-sd.txt" || fail "$layout: text entry: $(grep entry "$T/$layout-sd.txt")"
		grep -q "loader.conf: default $def, timeout $tmo" "$T/$layout-sd.txt" || fail "$layout: text"
		rm -f "$T/esp" "$T/xb"
		log "$layout: systemd-boot, entry $ent, default $def, timeout $tmo"
	done
else
	skip_case "systemd-boot cases (no $sdboot)"
fi

# hybrid with both loaders: the sub-MiB BIOS boot partition shown as such, both firmwares' loaders
if [ -f "$sdboot" ] && [ -f "$grub_dir/boot.img" ]; then
	build "${common[@]}" --systemd-boot-efi "$sdboot" --grub-dir "$grub_dir" --partition-table hybrid \
		-o "$T/hybrid.img"
	inspect_both "$T/hybrid.img" hybrid
	read -r bb_start bb_size < <(part_geometry "$T/hybrid.img" 2)
	grep -q "^  partition 2: BIOS boot, bytes $((bb_start * 512))\.\.$(((bb_start + bb_size) * 512)) ($((bb_size / 2)) KiB)" \
		"$T/hybrid.txt" || fail "hybrid: BIOS boot line: $(grep 'partition 2' "$T/hybrid.txt")"
	grep -q "BIOS: GRUB, core.img at sectors $bb_start\.\..* (BIOS boot partition 2), prefix /boot/grub" \
		"$T/hybrid.txt" || fail "hybrid: BIOS line"
	grep -q "EFI/BOOT/BOOTX64.EFI: systemd-boot " "$T/hybrid.txt" || fail "hybrid: UEFI line"
	rm -f "$T/hybrid.img"
else
	skip_case "hybrid case (needs systemd-boot and GRUB i386-pc)"
fi

# GRUB for UEFI on the removable path, with its prefix
if [ -f "$grub_efi_dir/kernel.img" ]; then
	img=$T/efi-grub.img
	build "${common[@]}" --bootloader grub --grub-efi-dir "$grub_efi_dir" --partition-table efi -o "$img"
	inspect_both "$img" efi-grub
	[ "$(jget "$T/efi-grub.json" 'j["boot"]["uefi"]["removable"][0]["loader"]')" = GRUB ] ||
		fail "efi-grub: loader"
	[ "$(jget "$T/efi-grub.json" 'j["boot"]["uefi"]["removable"][0]["prefix"]')" = /boot/grub ] ||
		fail "efi-grub: prefix"
	extract_partition "$img" 1 "$T/esp"
	mtype -i "$T/esp" ::/EFI/BOOT/BOOTX64.EFI | grep -qa /boot/grub || fail "efi-grub: no prefix in the binary"
	extract_partition "$img" 2 "$T/rootfs"
	[ "$(jget "$T/efi-grub.json" 'j["boot"]["uefi"]["removable"][0]["rootUuid"]')" = \
		"$(blkid -p -o value -s UUID "$T/rootfs")" ] || fail "efi-grub: root UUID is not blkid's"
	rm -f "$T/rootfs"
	grep -q "EFI/BOOT/BOOTX64.EFI: GRUB, .* bytes, prefix /boot/grub" "$T/efi-grub.txt" ||
		fail "efi-grub: text"
	# the same through the qcow2 reader
	"$MKDISKIMAGE" convert "$img" "$T/efi-grub.qcow2" 2>/dev/null || fail "convert to qcow2"
	"$MKDISKIMAGE" inspect --json "$T/efi-grub.qcow2" >"$T/efi-grub-q.json" || fail "inspect qcow2"
	[ "$(jget "$T/efi-grub-q.json" 'json.dumps(j["boot"])')" = "$(jget "$T/efi-grub.json" 'json.dumps(j["boot"])')" ] ||
		fail "efi-grub: qcow2 boot object differs from raw"
	rm -f "$T/efi-grub.qcow2" "$T/esp"
else
	skip_case "GRUB x86_64-efi case (no $grub_efi_dir)"
fi

# boot-test: nothing to boot fails before QEMU starts, with the reason, the log still written
build "${common[@]}" --bootloader none --partition-table legacy+gpt -o "$T/none.img"
inspect_both "$T/none.img" none
grep -q "BIOS: nothing to boot (no MBR boot code)" "$T/none.txt" || fail "none: text"
# the empty BIOS boot partition is shown as such, not as an unknown filesystem
grep -A1 "^  partition 1: BIOS boot, " "$T/none.txt" | grep -qx "    no GRUB core.img (GRUB for BIOS is not installed)" ||
	fail "none: empty BIOS boot partition: $(grep -A1 'partition 1' "$T/none.txt")"
rc=0
"$MKDISKIMAGE" boot-test --firmware bios --serial-log "$T/none.log" "$T/none.img" \
	>"$T/bt.out" 2>"$T/bt.err" || rc=$?
[ "$rc" = 1 ] || fail "boot-test on nothing to boot: exit $rc, not 1"
[ "$(cat "$T/bt.err")" = "mkdiskimage: error: $T/none.img: nothing to boot under BIOS: the MBR has no boot code (build with --bootloader grub)" ] ||
	fail "boot-test bios message: $(cat "$T/bt.err")"
[ ! -s "$T/bt.out" ] || fail "boot-test printed a result: QEMU ran ($(cat "$T/bt.out"))"
[ -e "$T/none.log" ] && [ ! -s "$T/none.log" ] || fail "--serial-log not created empty"
rc=0
"$MKDISKIMAGE" boot-test --firmware efi "$T/none.img" >"$T/bt.out" 2>"$T/bt.err" || rc=$?
[ "$rc" = 1 ] || fail "boot-test --firmware efi: exit $rc"
grep -q "none.img: nothing to boot under UEFI: no FAT partition with an EFI directory" "$T/bt.err" ||
	fail "boot-test uefi message: $(cat "$T/bt.err")"
[ "$(wc -l <"$T/bt.err")" = 1 ] && [ ! -s "$T/bt.out" ] || fail "boot-test efi: not one line"
rc=0
"$MKDISKIMAGE" boot-test --firmware efx "$T/none.img" 2>"$T/bt.err" || rc=$?
[ "$rc" = 2 ] || fail "--firmware efx: exit $rc, not 2"
log ok
