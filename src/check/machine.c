/* The QEMU machine for each guest architecture boot-test runs (binary, machine, CPU, UEFI
 * firmware), and the architecture of an image: aarch64 when its partition table holds the
 * aarch64 root type (what `--arch aarch64` writes; make-disk-image follows hostPlatform the
 * same way), x86-64 otherwise. */
#include "check/check-internal.h"

#include <errno.h>
#include <string.h>

#include "format/reader.h"
#include "part/part.h"
#include "part/types.h"
#include "util/cleanup.h"

static const struct check_machine check_machines[] = {
	[CHECK_ARCH_X86_64] = {
		.name = "x86-64",
		.qemu = "qemu-system-x86_64",
		.qemu_package = "qemu-system-x86",
		.machine = "q35",
		.cpu = NULL, /* QEMU's default */
		.arch = PART_ARCH_X86_64, /* its UEFI vars template: boot/find.c's */
		.uefi_package = "ovmf",
		.has_bios = true,
	},
	[CHECK_ARCH_AARCH64] = {
		.name = "aarch64",
		.qemu = "qemu-system-aarch64",
		.qemu_package = "qemu-system-arm",
		.machine = "virt",
		.cpu = "cortex-a57",
		.arch = PART_ARCH_AARCH64,
		.uefi_package = "qemu-efi-aarch64",
		.has_bios = false,
	},
};

const struct check_machine *check_machine_get(enum check_arch a)
{
	return &check_machines[a == CHECK_ARCH_AUTO ? CHECK_ARCH_X86_64 : a];
}

const char *check_machine_uefi_code(enum check_arch a, long long vars_size)
{
	/* QEMU's virt machine maps two 64 MiB flash banks: Debian pads both AAVMF files */
	if (a == CHECK_ARCH_AARCH64)
		return vars_size == 64ll << 20 ? CHECK_AAVMF_DIR "/AAVMF_CODE.fd" : NULL;
	return check_ovmf_code(vars_size);
}

static const char *const check_arch_names[] = {
	[CHECK_ARCH_AUTO] = "auto",
	[CHECK_ARCH_X86_64] = "x86-64",
	[CHECK_ARCH_AARCH64] = "aarch64",
};

int check_arch_from_name(const char *name, enum check_arch *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(check_arch_names); i++)
		if (strcmp(name, check_arch_names[i]) == 0) {
			*ret = (enum check_arch)i;
			return 0;
		}
	if (strcmp(name, "x86_64") == 0 || strcmp(name, "arm64") == 0) {
		*ret = name[0] == 'x' ? CHECK_ARCH_X86_64 : CHECK_ARCH_AARCH64;
		return 0;
	}
	return -EINVAL;
}

const char *check_arch_name(enum check_arch a)
{
	return check_arch_names[a];
}

bool check_arch_is_host(enum check_arch a)
{
#if defined(__x86_64__)
	return a == CHECK_ARCH_X86_64;
#elif defined(__aarch64__)
	return a == CHECK_ARCH_AARCH64;
#else
	return false;
#endif
}

static int check_arch_read(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return image_input_read(ctx, off, buf, len, d);
}

enum check_arch check_arch_of_table(const struct part_probe *p)
{
	uint8_t aa64[16];

	part_type_uuid(PART_ROLE_ROOT, PART_ARCH_AARCH64, /* generic_root= */ false, aa64);
	for (size_t i = 0; i < p->n_parts; i++)
		if (memcmp(p->parts[i].type_uuid, aa64, 16) == 0)
			return CHECK_ARCH_AARCH64;
	return CHECK_ARCH_X86_64;
}

int check_arch_detect(struct image_input *in, struct diag *d, enum check_arch *ret)
{
	struct part_probe_io io = { check_arch_read, in };
	struct part_probe *p = NULL;
	int r;

	r = part_probe_io(&io, in->reader->virtual_size, d, &p);
	if (r < 0)
		return r;
	*ret = check_arch_of_table(p);
	part_probe_free(p);
	return 0;
}
