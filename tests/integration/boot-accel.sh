#!/usr/bin/env bash
# boot-test's accelerator choice on this machine (issue #6: "KVM when it works, TCG
# otherwise"): --accel auto runs the KVM probe and reports which accelerator QEMU got and why,
# in text and --json, and the reason matches the host (no /dev/kvm or no access: the open
# error; else the probe's verdict); --accel tcg skips the probe; --kvm is --accel kvm; an
# aarch64 guest on x86-64 is TCG without a probe; bad values are refused. The image is empty
# (nothing boots): each run ends at its 1 s timeout, and QEMU is gone afterwards. The probe's
# time goes to the log.
# quick
. "$(dirname "$0")/../lib.sh"

require qemu-system-x86_64 python3
[ "$(uname -m)" = x86_64 ] || skip "the probe guest is x86 code"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "needs OVMF (ovmf)"
truncate -s 1M "$T/empty.img"

# run ARGS...: boot-test the empty image with a 1 s timeout (exit 1: the serial check fails).
run()
{
	local rc=0
	out=$("$MKDISKIMAGE" boot-test "$T/empty.img" --no-boot-check --expect-serial NEVER --timeout 1 \
		"$@") ||
		rc=$?
	[ "$rc" -eq 1 ] || fail "boot-test $*: exit $rc, want 1: $out"
}

# field KEY: a key of the last --json report.
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$out" "$1"; }

run --json
accel=$(field accel)
why=$(field accel_reason)
log "auto: $accel ($why), probe $(field kvm_probe_seconds) s"
[ "$(field arch)" = x86-64 ] || fail "arch: $out"
if [ ! -e /dev/kvm ]; then
	[ "$accel/$why" = "tcg//dev/kvm: No such file or directory" ] || fail "no /dev/kvm: $out"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "$accel/$why" = "tcg//dev/kvm: Permission denied" ] || fail "no access: $out"
elif [ "$accel" = kvm ]; then
	[[ $why == "KVM probe ran a guest to hlt in "* ]] || fail "kvm without a passing probe: $out"
else
	[ "$accel" = tcg ] && [[ $why == "KVM probe"* ]] || fail "tcg without the probe's verdict: $out"
fi
python3 -c 'import json, sys; assert json.loads(sys.argv[1])["kvm_probe_seconds"] > 0' "$out" ||
	fail "the probe did not run: $out"

run
grep -qx "accel: $accel ($why), arch x86-64" <<<"$out" || fail "text report: $out"

run --accel tcg --json
[ "$(field accel)/$(field accel_reason)/$(field kvm_probe_seconds)" = "tcg/--accel tcg/0.0" ] ||
	fail "--accel tcg: $out"

# --kvm (--accel kvm) runs QEMU with KVM whatever the probe says: only the report is checked.
run --kvm --json
[ "$(field accel)/$(field accel_reason)" = "kvm/--accel kvm" ] || fail "--kvm: $out"

if command -v qemu-system-aarch64 >/dev/null && [ -f /usr/share/AAVMF/AAVMF_CODE.fd ]; then
	run --arch aarch64 --json
	[ "$(field accel)/$(field kvm_probe_seconds)" = tcg/0.0 ] || fail "aarch64 guest: $out"
	[ "$(field accel_reason)" = "an aarch64 guest: KVM runs only the host's architecture" ] ||
		fail "aarch64 guest: $out"
else
	skip_case "aarch64 guest (needs qemu-system-arm and qemu-efi-aarch64)"
fi
assert_not_running "file=$T/empty.img" "boot-test left QEMU running"

for bad in "--accel fast" "--arch mips"; do
	rc=0
	# shellcheck disable=SC2086
	err=$("$MKDISKIMAGE" boot-test "$T/empty.img" $bad 2>&1) || rc=$?
	[ "$rc" -eq 2 ] && [[ $err == *"${bad% *} ${bad#* }: use "* ]] || fail "$bad: exit $rc: $err"
done
log "ok"
