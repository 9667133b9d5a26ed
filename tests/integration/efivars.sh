#!/usr/bin/env bash
# touchEFIVars: efi-vars.fd from Debian's OVMF variable-store templates (OVMF_VARS_4M.fd, the
# 2 MiB OVMF_VARS.fd, and OVMF_VARS_4M.ms.fd with Microsoft's keys and deleted variables). An
# independent reader (Python, below) checks the volume and store headers, that the template's
# variables are there byte for byte, Boot0000's load option (HD node = the ESP's number, start,
# size and PARTUUID from sfdisk; the systemd-boot file path) and BootOrder = 0000. Two builds
# are identical; bad inputs fail with one line and no output. The oracle: OVMF itself boots
# the image through Boot0000 alone (the ESP has EFI/systemd/systemd-bootx64.efi but no
# EFI/BOOT/BOOTX64.EFI) and systemd-boot's menu appears; with the pristine template the same
# disk does not boot (OVMF falls through to its shell). QUICK=1 skips the QEMU boots.
# quick
. "$(dirname "$0")/../lib.sh"
require sfdisk python3 cmp
OVMF=/usr/share/OVMF
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for f in "$OVMF/OVMF_VARS_4M.fd" "$OVMF/OVMF_VARS.fd" "$OVMF/OVMF_CODE_4M.fd" "$SDBOOT"; do
	[ -e "$f" ] || skip "needs $f (packages ovmf, systemd-boot-efi)"
done

# read_store and boot_entry: the independent reader, shared with nix-function.sh.
. "$TESTS/efivars-reader.sh"

mkdir -p "$T/esp/EFI/systemd" "$T/out" "$T/out2"
cp "$SDBOOT" "$T/esp/EFI/systemd/systemd-bootx64.efi"
args=(--partition-table efi --esp "$T/esp" --boot-size 40M --additional-space 1M
	--touch-efi-vars)

log "efi layout, OVMF_VARS_4M.fd template"
build "${args[@]}" --efi-vars-template "$OVMF/OVMF_VARS_4M.fd" -o "$T/out"
vars=$T/out/efi-vars.fd
[ "$(stat -c %s "$vars")" -eq "$(stat -c %s "$OVMF/OVMF_VARS_4M.fd")" ] ||
	fail "efi-vars.fd is not the template's size"
read_store "$vars" >"$T/vars.txt" || fail "efi-vars.fd does not parse"
cat "$T/vars.txt" | cut -c1-60 >&2
[ "$(awk '$1 == "3f"' "$T/vars.txt" | wc -l)" -eq 2 ] || fail "want exactly Boot0000 and BootOrder"
order=$(awk '$1 == "3f" && $2 == "BootOrder" { print $3, $4, substr($6, length($6) - 3) }' \
	"$T/vars.txt")
[ "$order" = "8be4df61-93ca-11d2-aa0d-00e098032b8c 7 0000" ] || fail "BootOrder: $order"
read -r start size < <(part_geometry "$T/out/nixos.img" 1)
partuuid=$(sfdisk --part-uuid "$T/out/nixos.img" 1 | tr 'A-Z' 'a-z')
want="1|Linux Boot Manager|1|$start|$size|$partuuid|\\EFI\\systemd\\systemd-bootx64.efi"
got=$(boot_entry "$vars")
[ "$got" = "$want" ] || fail "Boot0000: got $got, want $want"
# the template's bytes are all kept: only the appended variables differ
first=$(awk '{ print $5; exit }' "$T/vars.txt")
cmp -n "$first" "$vars" "$OVMF/OVMF_VARS_4M.fd" || fail "bytes before the new variables changed"
end=$(awk '{ o = $5 + 3 + length($6) / 2 } END { print o }' "$T/vars.txt")
cmp -i "$end" "$vars" "$OVMF/OVMF_VARS_4M.fd" ||
	fail "bytes after the new variables (free space, FTW) changed"

log "reproducible"
build "${args[@]}" --efi-vars-template "$OVMF/OVMF_VARS_4M.fd" -o "$T/out2"
cmp "$vars" "$T/out2/efi-vars.fd" || fail "two builds give different efi-vars.fd"
cmp "$T/out/nixos.img" "$T/out2/nixos.img" || fail "two builds give different images"

log "2 MiB OVMF_VARS.fd, hybrid layout, --efi-vars-out"
build --partition-table hybrid --esp "$T/esp" --boot-size 40M --additional-space 1M \
	--touch-efi-vars --efi-vars-template "$OVMF/OVMF_VARS.fd" \
	--efi-vars-out "$T/small-vars.fd" -o "$T/hybrid.img"
[ "$(stat -c %s "$T/small-vars.fd")" -eq 131072 ] || fail "small efi-vars.fd size"
read -r start size < <(part_geometry "$T/hybrid.img" 1)
partuuid=$(sfdisk --part-uuid "$T/hybrid.img" 1 | tr 'A-Z' 'a-z')
want="1|Linux Boot Manager|1|$start|$size|$partuuid|\\EFI\\systemd\\systemd-bootx64.efi"
got=$(boot_entry "$T/small-vars.fd")
[ "$got" = "$want" ] || fail "hybrid Boot0000: got $got, want $want"

if [ -e "$OVMF/OVMF_VARS_4M.ms.fd" ]; then
	# Its Boot0000..0002 (UiApp, shell, ...) stay: ours takes the lowest free number, as
	# bootctl does, and BootOrder (all copies deleted in the template) becomes 0003.
	log "OVMF_VARS_4M.ms.fd: the template's variables (live and deleted) kept byte for byte"
	build "${args[@]}" --efi-vars-template "$OVMF/OVMF_VARS_4M.ms.fd" \
		--efi-vars-out "$T/ms-vars.fd" -o "$T/ms.img"
	read_store "$OVMF/OVMF_VARS_4M.ms.fd" >"$T/ms-before.txt"
	read_store "$T/ms-vars.fd" >"$T/ms-after.txt"
	n=$(wc -l <"$T/ms-before.txt")
	head -n "$n" "$T/ms-after.txt" | diff -u "$T/ms-before.txt" - ||
		fail "the template's variables changed"
	[ "$(tail -n +"$((n + 1))" "$T/ms-after.txt" | awk '{ print $1, $2 }' | tr '\n' ' ')" = \
		"3f Boot0003 3f BootOrder " ] || fail "ms: want Boot0003 and BootOrder appended"
	[ "$(awk '$1 == "3f" && $2 == "BootOrder" { print substr($6, length($6) - 3) }' \
		"$T/ms-after.txt")" = 0300 ] || fail "ms: BootOrder is not 0003"
	boot_entry "$T/ms-vars.fd" Boot0003 | grep -qF '|Linux Boot Manager|1|' ||
		fail "ms: Boot0003 is not ours"
	grep -q "^3f PK " "$T/ms-after.txt" || fail "ms: PK lost"
fi

log "with installBootLoader: systemd-boot installed by the build, then its entry"
printf 'not a kernel\n' >"$T/kernel"
build --partition-table efi --boot-size 40M --additional-space 1M --kernel "$T/kernel" \
	--systemd-boot-efi "$SDBOOT" --touch-efi-vars --efi-vars-template "$OVMF/OVMF_VARS_4M.fd" \
	--efi-vars-out "$T/installed-vars.fd" -o "$T/installed.img"
boot_entry "$T/installed-vars.fd" | grep -qF '|Linux Boot Manager|1|16384|' ||
	fail "installBootLoader: no Boot0000 for the ESP"

log "bad inputs: one line, no output"
bad()
{
	local want=$1
	shift
	rm -rf "$T/bad" && mkdir "$T/bad"
	if "$MKDISKIMAGE" build "$@" >"$T/bad.out" 2>"$T/bad.err"; then
		fail "build $* succeeded"
	fi
	grep -qF -- "$want" "$T/bad.err" || { cat "$T/bad.err" >&2; fail "message: want $want"; }
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || { cat "$T/bad.err" >&2; fail "more than one line"; }
	[ -z "$(ls -A "$T/bad")" ] || fail "output left behind: $(ls -A "$T/bad")"
}
bad "FileSystemGuid is not gEfiSystemNvDataFvGuid" "${args[@]}" \
	--efi-vars-template "$OVMF/OVMF_CODE_4M.fd" -o "$T/bad"
bad 'Signature is not "_FVH"' "${args[@]}" --efi-vars-template "$SDBOOT" -o "$T/bad"
head -c 4096 "$OVMF/OVMF_VARS_4M.fd" >"$T/truncated.fd"
bad "FvLength" "${args[@]}" --efi-vars-template "$T/truncated.fd" -o "$T/bad"
# no template given and none found (an empty search root): the paths tried, the flag
mkdir -p "$T/noroot"
MKDISKIMAGE_SEARCH_ROOT=$T/noroot bad "touchEFIVars: no firmware variable store template found (tried $T/noroot/usr/share/OVMF/OVMF_VARS_4M.fd," \
	"${args[@]}" -o "$T/bad"
bad "give efiVarsOut" "${args[@]}" --efi-vars-template "$OVMF/OVMF_VARS_4M.fd" \
	-o "$T/bad/x.img"
bad "partitionTableType legacy has no ESP" --touch-efi-vars \
	--efi-vars-template "$OVMF/OVMF_VARS_4M.fd" -o "$T/bad"
mkdir -p "$T/empty-esp"
bad "the ESP has no EFI/systemd/systemd-bootx64.efi" --partition-table efi \
	--esp "$T/empty-esp" --boot-size 40M --touch-efi-vars \
	--efi-vars-template "$OVMF/OVMF_VARS_4M.fd" -o "$T/bad"

head -c 540672 /dev/zero >"$T/zeros.fd"
bad "only AAVMF (ArmVirtQemu)'s 64 MiB layout is known" "${args[@]}" \
	--efi-vars-template "$T/zeros.fd" -o "$T/bad"

# An erased 64 MiB template (Debian's AAVMF_VARS.fd is one) is formatted as AAVMF formats it
# on first boot; tests/integration/boot-aarch64.sh boots it. Here: it parses and holds ours.
log "erased 64 MiB template: formatted, then Boot0000"
truncate -s 64M "$T/erased.fd"
build "${args[@]}" --efi-vars-template "$T/erased.fd" --efi-vars-out "$T/erased-vars.fd" \
	-o "$T/erased.img"
[ "$(stat -c %s "$T/erased-vars.fd")" -eq $((64 << 20)) ] || fail "erased: size changed"
cmp -s -i 786432 "$T/erased-vars.fd" "$T/erased.fd" || fail "erased: bytes past the store changed"

# inspect_names FILE: the live variables' names by `mkdiskimage inspect --json`, one a line.
inspect_names()
{
	"$MKDISKIMAGE" inspect --json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["type"] == "efi-variable-store", j
for v in j["variables"]:
    print(v["name"])'
}

log "inspect: the stores we made and the untouched templates"
read -r start size < <(part_geometry "$T/out/nixos.img" 1)
partuuid=$(sfdisk --part-uuid "$T/out/nixos.img" 1 | tr 'A-Z' 'a-z')
hd=$(printf 'HD(1,GPT,%s,0x%x,0x%x)' "$partuuid" "$start" "$size")
out=$("$MKDISKIMAGE" inspect "$vars") || fail "inspect efi-vars.fd: $out"
printf '%s\n' "$out" >&2
grep -qxF "  Boot0000 8be4df61-93ca-11d2-aa0d-00e098032b8c NV|BS|RT, $(
	awk '$1 == "3f" && $2 == "Boot0000" { print length($6) / 2 - 57 - 18 }' "$T/vars.txt"
) bytes: \"Linux Boot Manager\" $hd/\\EFI\\systemd\\systemd-bootx64.efi" <<<"$out" ||
	fail "inspect: Boot0000 line, want $hd"
grep -qxF "  BootOrder 8be4df61-93ca-11d2-aa0d-00e098032b8c NV|BS|RT, 2 bytes: 0000" <<<"$out" ||
	fail "inspect: BootOrder line"
"$MKDISKIMAGE" inspect --json "$vars" | python3 -c '
import json, sys
j = json.load(sys.stdin)
v = {x["name"]: x for x in j["variables"]}
assert sorted(v) == ["Boot0000", "BootOrder"], v
assert v["BootOrder"]["order"] == [0] and v["BootOrder"]["attributes"] == 7, v
b = v["Boot0000"]
assert b["active"] and b["description"] == "Linux Boot Manager", b
assert b["devicePath"] == sys.argv[1] + "\\EFI\\systemd\\systemd-bootx64.efi", b
' "$hd/" || fail "inspect --json efi-vars.fd"
"$MKDISKIMAGE" inspect "$T/erased-vars.fd" | grep -qF "\"Linux Boot Manager\" HD(1,GPT," ||
	fail "inspect: the formatted erased template has no Boot0000"
# against the independent reader above: the same live variables, in store order
for f in "$OVMF"/OVMF_VARS*.fd "$T/ms-vars.fd"; do
	[ -e "$f" ] || continue
	# (read_store's lines split at spaces: "Attempt 1" compares as "Attempt")
	diff <(inspect_names "$f" | cut -d' ' -f1) \
		<(read_store "$f" | awk '$1 == "3f" { print $2 }') ||
		fail "inspect $f: variables differ from the reader's"
done
if [ -e "$T/ms-vars.fd" ]; then
	out=$("$MKDISKIMAGE" inspect "$T/ms-vars.fd")
	grep -q '^  Boot0002 .*: "EFI Internal Shell" Path(4,7)/Path(4,6)$' <<<"$out" ||
		fail "inspect ms: Boot0002"
	grep -q '^  BootOrder .*: 0003$' <<<"$out" || fail "inspect ms: BootOrder"
fi
# hostile: Boot0000's FilePathListLength past its data is reported, the rest still listed
cp "$vars" "$T/hostile.fd"
boff=$(awk '$1 == "3f" && $2 == "Boot0000" { print $5 }' "$T/vars.txt")
printf '\xff\x7f' | dd of="$T/hostile.fd" bs=1 seek=$((boff + 60 + 18 + 4)) conv=notrunc \
	status=none
out=$("$MKDISKIMAGE" inspect "$T/hostile.fd") || fail "inspect hostile.fd: $out"
grep -q "Boot0000 .*undecodable: load option: FilePathListLength 32767 runs past" <<<"$out" ||
	fail "inspect hostile: $out"
grep -q "BootOrder .*: 0000$" <<<"$out" || fail "inspect hostile: BootOrder lost"
rc=0
out=$("$MKDISKIMAGE" inspect "$T/truncated.fd" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "FvLength" <<<"$out" && [ "$(wc -l <<<"$out")" -eq 1 ] ||
	fail "inspect truncated.fd: exit $rc: $out"
rm -f "$T/erased.fd" "$T/erased-vars.fd" "$T/erased.img" "$T/hostile.fd"

[ -n "${QUICK:-}" ] && exit 0
require qemu-system-x86_64 timeout

# boot VARS SERIAL UNTIL: boot out/nixos.img under OVMF with a copy of VARS until the serial
# console matches the extended regex UNTIL (or 300 s pass); the console is left in SERIAL.
boot()
{
	local vars=$1 serial=$2 until=$3 pid i
	cp "$vars" "$T/pflash-vars.fd"
	: >"$serial"
	qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -monitor none -net none \
		-drive if=pflash,format=raw,readonly=on,file="$OVMF/OVMF_CODE_4M.fd" \
		-drive if=pflash,format=raw,file="$T/pflash-vars.fd" \
		-drive file="$T/out/nixos.img",format=raw,if=none,id=d0,snapshot=on \
		-device virtio-blk-pci,drive=d0,bootindex=1 \
		-serial file:"$serial" >/dev/null 2>&1 &
	pid=$!
	_PIDS+=("$pid")
	for ((i = 0; i < 300; i++)); do
		if tr -d '\r' <"$serial" | grep -aEq "$until"; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

log "OVMF boots Boot0000 from efi-vars.fd"
read -r start size < <(part_geometry "$T/out/nixos.img" 1)
partuuid=$(sfdisk --part-uuid "$T/out/nixos.img" 1)
hd=$(printf 'HD(1,GPT,%s,0x%X,0x%X)' "$partuuid" "$start" "$size")
line="BdsDxe: starting Boot0000 \"Linux Boot Manager\" from $hd/\\EFI\\systemd\\systemd-bootx64.efi"
boot "$vars" "$T/serial.log" 'Boot in [0-9]+ s|EFI Internal Shell'
tr -d '\r' <"$T/serial.log" | grep -a BdsDxe >&2 || true
tr -d '\r' <"$T/serial.log" | grep -aqF "$line" || fail "OVMF did not start Boot0000: want $line"
grep -aq "Reboot Into Firmware Interface" "$T/serial.log" ||
	fail "no systemd-boot menu on the console"
# the firmware kept our store (it reformats one it rejects) and wrote its own variables after ours
read_store "$T/pflash-vars.fd" >"$T/after-boot.txt" || fail "the store OVMF left does not parse"
[ "$(boot_entry "$T/pflash-vars.fd")" = "$(boot_entry "$vars")" ] ||
	fail "OVMF's store lost our Boot0000"
[ "$(wc -l <"$T/after-boot.txt")" -gt 2 ] || fail "OVMF wrote no variables of its own"

log "control: the pristine template does not boot the same disk"
boot "$OVMF/OVMF_VARS_4M.fd" "$T/serial-pristine.log" 'EFI Internal Shell|Boot in [0-9]+ s'
tr -d '\r' <"$T/serial-pristine.log" | grep -a BdsDxe >&2 || true
grep -aq "Reboot Into Firmware Interface" "$T/serial-pristine.log" &&
	fail "the disk booted systemd-boot without Boot0000: the test proves nothing"
grep -aq "EFI Internal Shell" "$T/serial-pristine.log" ||
	fail "control boot did not reach the shell"
exit 0
