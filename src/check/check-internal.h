/* Inside check/: the KVM probe (kvm-probe.c) and the per-architecture QEMU machines
 * (machine.c) that qemu.c starts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "check/check.h"
#include "part/part.h"

struct image_input;
struct part_probe;

#define CHECK_KVM_DEV "/dev/kvm"
#define CHECK_KVM_PROBE_MS 2000 /* a working KVM answers in milliseconds */

enum check_kvm_status {
	CHECK_KVM_OK,          /* the guest ran to hlt */
	CHECK_KVM_FAILED,      /* `step` failed with err (open: no device, no permission) */
	CHECK_KVM_API,         /* KVM_GET_API_VERSION answered value, not 12 */
	CHECK_KVM_EXIT,        /* the guest stopped with exit reason value (suberror value2) */
	CHECK_KVM_TIMEOUT,     /* no answer within timeout_ms: the child was killed */
	CHECK_KVM_DIED,        /* the child died (signal value) without answering */
	CHECK_KVM_UNSUPPORTED, /* no probe guest for the host's architecture */
};

enum check_kvm_step {
	CHECK_KVM_STEP_FORK, /* the parent could not start the child */
	CHECK_KVM_STEP_OPEN,
	CHECK_KVM_STEP_API,
	CHECK_KVM_STEP_CREATE_VM,
	CHECK_KVM_STEP_MEMORY,
	CHECK_KVM_STEP_CREATE_VCPU,
	CHECK_KVM_STEP_REGS,
	CHECK_KVM_STEP_RUN,
};

struct check_kvm_probe {
	enum check_kvm_status status;
	enum check_kvm_step step;
	int err; /* errno of the failed step */
	int value, value2;
	const char *dev;     /* set by the parent */
	unsigned timeout_ms; /* set by the parent */
	double seconds;      /* how long the probe took */
};

/* The probe's guest, run in the child: fills *ret (the child then exits). */
typedef void (*check_kvm_guest_fn)(const char *dev, struct check_kvm_probe *ret);

/* Run guest in a forked child and wait at most timeout_ms for its answer; on timeout SIGKILL
 * it and return without waiting for a child stuck in the kernel. Never fails: problems are
 * in *ret. */
void check_kvm_probe_run(check_kvm_guest_fn guest, const char *dev, unsigned timeout_ms,
			 struct check_kvm_probe *ret);
/* check_kvm_probe_run with the real guest: a vcpu running x87 instructions to hlt. */
void check_kvm_probe(const char *dev, unsigned timeout_ms, struct check_kvm_probe *ret);
/* What a failed probe found, for "accel: tcg (...)": "KVM probe timed out after 2 s". */
void check_kvm_describe(const struct check_kvm_probe *p, char *buf, size_t size);
/* The accelerator ("kvm" or "tcg") for want, and why. For auto: kvm only when the guest's
 * architecture is the host's and the probe (run by the caller, only then) passed. */
const char *check_accel_choose(enum check_accel want, const char *guest_arch, bool guest_is_host,
			       const struct check_kvm_probe *p, char *why, size_t why_size);

struct check_machine {
	const char *name;         /* "x86-64", "aarch64" */
	const char *qemu;         /* qemu-system-* */
	const char *qemu_package; /* the Debian package that has it */
	const char *machine;      /* -machine */
	const char *cpu;          /* -cpu under TCG; NULL: QEMU's default */
	enum part_arch arch;      /* the default UEFI variable-store template: boot/find.c's
				   * BOOT_FIND_EFI_VARS places for this arch (the build's) */
	const char *uefi_package;
	bool has_bios; /* SeaBIOS: --firmware bios */
};

const struct check_machine *check_machine_get(enum check_arch a);
/* The UEFI code image that goes with a variable store of vars_size bytes, NULL when none. */
const char *check_machine_uefi_code(enum check_arch a, long long vars_size);
/* Whether KVM on this host can run a guest of that architecture. */
bool check_arch_is_host(enum check_arch a);
/* aarch64 when a partition has the aarch64 root type, else x86-64. */
enum check_arch check_arch_of_table(const struct part_probe *p);
/* The same for an image (its partition table through the format reader). */
int check_arch_detect(struct image_input *in, struct diag *d, enum check_arch *ret);
