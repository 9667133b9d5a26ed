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

enum check_accel {
	CHECK_ACCEL_AUTO, /* KVM when a probe guest runs on it (kvm-probe.c), TCG otherwise */
	CHECK_ACCEL_KVM,
	CHECK_ACCEL_TCG,
};

enum check_arch {
	CHECK_ARCH_AUTO,    /* aarch64 when the image has an aarch64 root partition, else x86-64 */
	CHECK_ARCH_X86_64,  /* qemu-system-x86_64 -machine q35, OVMF or SeaBIOS */
	CHECK_ARCH_AARCH64, /* qemu-system-aarch64 -machine virt -cpu cortex-a57, AAVMF */
};

#define CHECK_DEFAULT_EXPECT "login:"
#define CHECK_DEFAULT_TIMEOUT 300
#define CHECK_OVMF_DIR "/usr/share/OVMF"
#define CHECK_AAVMF_DIR "/usr/share/AAVMF"

struct check_opts {
	const char *image;
	const char *format; /* qemu's name (raw, qcow2, vdi, vpc); NULL: probed */
	enum check_firmware firmware;
	const char *efi_vars; /* variable store copied to a temp file; NULL: OVMF's template */
	const char *expect;   /* POSIX extended regex matched against the serial output */
	bool ssh, guest_agent;
	unsigned timeout_s; /* for the whole run */
	enum check_accel accel;
	enum check_arch arch;
	const char *qemu; /* the binary; NULL: the architecture's qemu-system-* */
	/* Watching the run (cli/ prints; check/ stays silent). on_serial gets every chunk of
	 * the guest's serial output as it arrives (raw bytes, NULs included); on_wait is called
	 * every heartbeat_s seconds (0: never) while a check waits, with what it waits for
	 * ("/login:/", "ssh", "guest agent"), the seconds since QEMU started and the console
	 * bytes so far. */
	void (*on_serial)(void *ctx, const char *buf, size_t len);
	void (*on_wait)(void *ctx, const char *what, double seconds, unsigned timeout_s,
			size_t serial_bytes);
	unsigned heartbeat_s;
	void *ctx;
	/* Refuse an image the firmware has nothing to boot on before starting QEMU
	 * (boot/detect.c): -ENOEXEC with the reason. */
	bool no_boot_check;
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
	enum check_arch arch;  /* the one booted (never AUTO) */
	const char *accel;     /* "kvm" or "tcg" */
	char accel_why[160];   /* "KVM probe timed out after 2 s" */
	double probe_seconds;  /* the KVM probe's time; 0 when it did not run */
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
/* "x86-64", "aarch64" (and "auto"); -EINVAL for others. */
int check_arch_from_name(const char *name, enum check_arch *ret);
const char *check_arch_name(enum check_arch a);
