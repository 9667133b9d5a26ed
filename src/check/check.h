/* `mkdiskimage boot-test`: boot an image in QEMU and check what a VM test of it checks: the
 * serial console shows the boot, the SSH port forward answers, the QEMU guest agent answers.
 * QEMU runs with an argv array (posix_spawn), never through a shell, and is killed on every
 * path out (success, failure, timeout, SIGINT/SIGTERM/SIGHUP). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct diag;

enum check_firmware {
	CHECK_FIRMWARE_BIOS, /* SeaBIOS */
	CHECK_FIRMWARE_UEFI, /* OVMF */
};

#define CHECK_DEFAULT_EXPECT "login:"
#define CHECK_DEFAULT_TIMEOUT 300
#define CHECK_OVMF_DIR "/usr/share/OVMF"

struct check_opts {
	const char *image;
	const char *format; /* qemu's name (raw, qcow2, vdi, vpc); NULL: probed */
	enum check_firmware firmware;
	const char *efi_vars; /* variable store copied to a temp file; NULL: OVMF's template */
	const char *expect;   /* POSIX extended regex matched against the serial output */
	bool ssh, guest_agent;
	unsigned timeout_s; /* for the whole run */
	bool kvm;           /* -accel kvm instead of tcg */
	const char *qemu;   /* the binary; NULL: qemu-system-x86_64 */
};

enum check_kind { CHECK_SERIAL, CHECK_SSH, CHECK_GUEST_PING, CHECK_GUEST_OSINFO, CHECK_N };

struct check_result {
	bool run, pass;
	double seconds; /* since QEMU started, when the check passed or failed */
	char detail[256];
};

struct check_report {
	struct check_result r[CHECK_N];
	double total_seconds;
	char *serial; /* everything the guest printed (NUL bytes dropped) */
};

void check_report_done(struct check_report *rep);
/* Start QEMU, run the checks, stop QEMU. < 0 only when the test could not run (no QEMU, no
 * firmware, unreadable image); check failures are in the report. */
int check_boot(const struct check_opts *o, struct diag *d, struct check_report *ret);
/* "serial", "ssh", "guest-ping", "guest-get-osinfo". */
const char *check_name(enum check_kind k);
/* The OVMF code image that goes with a variable store of `vars_size` bytes (2 MiB or 4 MiB
 * builds), NULL when the size is neither. */
const char *check_ovmf_code(long long vars_size);
