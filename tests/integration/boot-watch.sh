#!/usr/bin/env bash
# A boot-test you can watch, on one GRUB legacy image under SeaBIOS (TCG): --console streams the
# guest's serial console to stderr as it arrives and --serial-log writes the same bytes to a
# file; a run that times out (an --expect-serial that never matches) still writes the log and
# prints heartbeat lines ("boot-test: waiting for /.../ (N s of M s, ... of console output)").
# Two QEMU runs; times are logged, never asserted.
. "$(dirname "$0")/../lib.sh"
require qemu-system-x86_64 gzip busybox python3
grub_bios_fixture

mkdir -p "$T/root/etc"
printf 'watch-marker\n' >"$T/root/boot-marker"
img=$T/legacy.img
# mdi.hold keeps the guest up after its marker (tests/boot/bios-initramfs.sh), so the timeout
# case below times out instead of seeing QEMU exit on a fast machine
build --root "$T/root" --disk-size 64M --kernel "$kernel" --initrd "$T/initrd.gz" \
	--cmdline "console=ttyS0 mdi.label=nixos mdi.hold panic=-1" --bootloader grub --grub-dir "$grub_dir" \
	--partition-table legacy -o "$img"

# 1. --console and --serial-log on a boot that passes
"$MKDISKIMAGE" boot-test "$img" --firmware bios --expect-serial "MDI-RESULT ok watch-marker" \
	--timeout 150 --console --serial-log "$T/serial.log" >"$T/out" 2>"$T/err" || {
	cat "$T/out" "$T/err" >&2
	fail "boot-test --console did not pass"
}
grep -q "^PASS serial" "$T/out" || fail "no PASS line: $(cat "$T/out")"
grep -q "MDI-RESULT ok watch-marker" "$T/serial.log" || fail "--serial-log lacks the marker"
grep -q "Linux version" "$T/serial.log" || fail "--serial-log lacks the kernel's banner"
# the console on stderr carries exactly the logged bytes (nothing else before them)
cmp <(head -c "$(stat -c %s "$T/serial.log")" "$T/err") "$T/serial.log" ||
	fail "--console output on stderr differs from --serial-log"
! grep -q "boot-test: waiting for" "$T/err" || fail "heartbeat printed with --console"
log "console + serial log: $(stat -c %s "$T/serial.log") bytes, $(tail -n1 "$T/out")"

# 2. a timeout: the log is written anyway, heartbeats on stderr, FAIL and exit 1
rc=0
"$MKDISKIMAGE" boot-test "$img" --firmware bios --expect-serial "never-printed-xyzzy" \
	--timeout 12 --serial-log "$T/timeout.log" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "timed-out boot-test: exit $rc, not 1"
grep -q "^FAIL serial .*no match before the timeout" "$T/out" || fail "no FAIL line: $(cat "$T/out")"
[ -s "$T/timeout.log" ] || fail "--serial-log empty after a timeout"
grep -Eq "^boot-test: waiting for /never-printed-xyzzy/ \(1[0-9] s of 12 s, [0-9.]+ (bytes|KiB|MiB) of console output\)$" \
	"$T/err" || fail "no heartbeat line: $(cat "$T/err")"
log "timeout: $(stat -c %s "$T/timeout.log") bytes logged; $(grep -m1 waiting "$T/err")"
