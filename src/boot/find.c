/* The default places of systemd-boot's EFI binary, GRUB's modules and the firmware's
 * variable-store template: where Debian's packages put them (systemd-boot-efi, grub-pc-bin,
 * grub-efi-amd64-bin, ovmf, qemu-efi-aarch64; Fedora and Arch use the same /usr/lib paths for
 * systemd-boot and GRUB), then a NixOS host's system profile (/run/current-system/sw, which
 * does not exist elsewhere). The firmware templates add Fedora's and Arch's edk2 packages and
 * QEMU's own edk2 build. The first place that has it wins; the order is the one --help
 * states. */
#include "boot/find.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/grub.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define NIXOS_SW "/run/current-system/sw"

static const char *const sdboot_x64[] = {
	"/usr/lib/systemd/boot/efi/systemd-bootx64.efi",
	NIXOS_SW "/lib/systemd/boot/efi/systemd-bootx64.efi",
	NULL,
};
static const char *const sdboot_aa64[] = {
	"/usr/lib/systemd/boot/efi/systemd-bootaa64.efi",
	NIXOS_SW "/lib/systemd/boot/efi/systemd-bootaa64.efi",
	NULL,
};
static const char *const grub_i386_pc[] = {
	"/usr/lib/grub/i386-pc",
	NIXOS_SW "/lib/grub/i386-pc",
	NULL,
};
static const char *const grub_x86_64_efi[] = {
	"/usr/lib/grub/x86_64-efi",
	NIXOS_SW "/lib/grub/x86_64-efi",
	NULL,
};
static const char *const grub_i386_efi[] = {
	"/usr/lib/grub/i386-efi",
	NIXOS_SW "/lib/grub/i386-efi",
	NULL,
};
static const char *const grub_arm64_efi[] = {
	"/usr/lib/grub/arm64-efi",
	NIXOS_SW "/lib/grub/arm64-efi",
	NULL,
};
static const char *const grub_riscv64_efi[] = {
	"/usr/lib/grub/riscv64-efi",
	NIXOS_SW "/lib/grub/riscv64-efi",
	NULL,
};
static const char *const vars_x64[] = {
	"/usr/share/OVMF/OVMF_VARS_4M.fd",	/* Debian's ovmf (528 KiB) */
	"/usr/share/OVMF/OVMF_VARS.fd",		/* its 2 MiB flash variant (128 KiB) */
	"/usr/share/edk2/ovmf/OVMF_VARS.fd",	/* Fedora's edk2-ovmf */
	"/usr/share/edk2/x64/OVMF_VARS.4m.fd",	/* Arch's edk2-ovmf */
	"/usr/share/qemu/edk2-i386-vars.fd",	/* QEMU's own build */
	NULL,
};
static const char *const vars_aa64[] = {
	"/usr/share/AAVMF/AAVMF_VARS.fd",			/* Debian's qemu-efi-aarch64 */
	"/usr/share/edk2/aarch64/vars-template-pflash.raw",	/* Fedora's edk2-aarch64 */
	"/usr/share/qemu/edk2-arm-vars.fd",			/* QEMU's own build */
	NULL,
};

static const struct boot_find_list {
	enum boot_find_kind kind;
	enum part_arch arch;
	const char *const *places;
	const char *package; /* Debian's */
} lists[] = {
	{ BOOT_FIND_SDBOOT, PART_ARCH_X86_64, sdboot_x64, "systemd-boot-efi" },
	{ BOOT_FIND_SDBOOT, PART_ARCH_AARCH64, sdboot_aa64, "systemd-boot-efi" },
	{ BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64, grub_i386_pc, "grub-pc-bin" },
	{ BOOT_FIND_GRUB_BIOS, PART_ARCH_X86, grub_i386_pc, "grub-pc-bin" },
	{ BOOT_FIND_GRUB_EFI, PART_ARCH_X86_64, grub_x86_64_efi, "grub-efi-amd64-bin" },
	{ BOOT_FIND_GRUB_EFI, PART_ARCH_X86, grub_i386_efi, "grub-efi-ia32-bin" },
	{ BOOT_FIND_GRUB_EFI, PART_ARCH_AARCH64, grub_arm64_efi, "grub-efi-arm64-bin" },
	{ BOOT_FIND_GRUB_EFI, PART_ARCH_RISCV64, grub_riscv64_efi, "grub-efi-riscv64-bin" },
	{ BOOT_FIND_EFI_VARS, PART_ARCH_X86_64, vars_x64, "ovmf" },
	{ BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64, vars_aa64, "qemu-efi-aarch64" },
};

static const struct boot_find_list *find_list(enum boot_find_kind k, enum part_arch arch)
{
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (lists[i].kind == k && lists[i].arch == arch)
			return &lists[i];
	return NULL;
}

const char *const *boot_find_places(enum boot_find_kind k, enum part_arch arch)
{
	const struct boot_find_list *l = find_list(k, arch);

	return l ? l->places : NULL;
}

static bool is_readable_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

/* Is it at p? When not, why, in *why (NULL: plainly absent). */
static bool find_check(enum boot_find_kind k, const char *p, char **why)
{
	_cleanup_free_ char *file = NULL, *mkimage = NULL;

	*why = NULL;
	if (k == BOOT_FIND_SDBOOT || k == BOOT_FIND_EFI_VARS)
		return is_readable_file(p);
	file = xasprintf("%s/%s", p, k == BOOT_FIND_GRUB_BIOS ? "boot.img" : "kernel.img");
	if (!is_readable_file(file))
		return false;
	/* what boot/grub.c runs: the same package's grub-mkimage */
	mkimage = grub_mkimage_path(p);
	if (access(mkimage, X_OK) == 0)
		return true;
	*why = xasprintf("no %s", mkimage);
	return false;
}

/* The message's start: what was looked for. */
static void find_what(enum boot_find_kind k, enum part_arch arch, struct strbuf *b)
{
	const char *const *places = boot_find_places(k, arch);
	const char *dir;

	switch (k) {
	case BOOT_FIND_SDBOOT:
		strbuf_appendf(b, "systemd-boot: no systemd-boot%s.efi found",
			       sdboot_arch_suffix(arch));
		return;
	case BOOT_FIND_GRUB_BIOS:
	case BOOT_FIND_GRUB_EFI:
		dir = strrchr(places[0], '/') + 1;
		strbuf_appendf(b, "bootloader grub: no GRUB %s modules found", dir);
		return;
	case BOOT_FIND_EFI_VARS:
		strbuf_append(b, "no firmware variable store template found");
		return;
	}
}

static const char *find_flag(enum boot_find_kind k)
{
	switch (k) {
	case BOOT_FIND_SDBOOT:
		return "--systemd-boot-efi F";
	case BOOT_FIND_GRUB_BIOS:
		return "--grub-dir DIR";
	case BOOT_FIND_GRUB_EFI:
		return "--grub-efi-dir DIR";
	case BOOT_FIND_EFI_VARS:
		return "--efi-vars-template F";
	}
	return "";
}

static const char *find_key(enum boot_find_kind k)
{
	switch (k) {
	case BOOT_FIND_SDBOOT:
		return "systemdBootEfi";
	case BOOT_FIND_GRUB_BIOS:
		return "grubDir";
	case BOOT_FIND_GRUB_EFI:
		return "grubEfiDir";
	case BOOT_FIND_EFI_VARS:
		return "efiVariables";
	}
	return "";
}

/* Try p: 0 when it is there, else its entry appended to tried. */
static bool find_try(enum boot_find_kind k, const char *p, struct strbuf *tried)
{
	char *why;

	if (find_check(k, p, &why))
		return true;
	strbuf_appendf(tried, "%s%s%s%s%s", tried->len ? ", " : "", p, why ? " (" : "",
		       why ? why : "", why ? ")" : "");
	free(why);
	return false;
}

static int find_run(enum boot_find_kind k, enum part_arch arch, const struct boot_find_where *w,
		    struct diag *d, char **ret)
{
	const struct boot_find_list *l = find_list(k, arch);
	const char *root = w && w->root ? w->root : "";
	struct strbuf tried = { 0 }, msg = { 0 };
	_cleanup_free_ char *list = NULL;
	char *p;

	if (!l) {
		if (!d)
			return -ENOTSUP;
		return diag_fail(d, -ENOTSUP, "%s: no default place for this arch; give %s",
				 find_key(k), w && w->flag ? w->flag : find_flag(k));
	}
	if (k == BOOT_FIND_SDBOOT && w && w->system) { /* the toplevel's own systemd first */
		p = xasprintf("%s/systemd/lib/systemd/boot/efi/systemd-boot%s.efi", w->system,
			      sdboot_arch_suffix(arch));
		if (find_try(k, p, &tried))
			goto found;
		free(p);
	}
	for (const char *const *pl = l->places; *pl; pl++) {
		p = xasprintf("%s%s", root, *pl);
		if (find_try(k, p, &tried))
			goto found;
		free(p);
	}
	list = strbuf_steal(&tried);
	if (!d)
		return -ENOENT;
	find_what(k, arch, &msg);
	strbuf_appendf(&msg, " (tried %s; install %s or give %s)", list, l->package,
		       w && w->flag ? w->flag : find_flag(k));
	p = strbuf_steal(&msg);
	diag_fail(d, -ENOENT, "%s", p);
	free(p);
	return -ENOENT;
found:
	strbuf_done(&tried);
	*ret = p;
	return 0;
}

int boot_find(enum boot_find_kind k, enum part_arch arch, const struct boot_find_where *w,
	      struct diag *d, char **ret)
{
	return find_run(k, arch, w, d, ret);
}

bool boot_find_present(enum boot_find_kind k, enum part_arch arch,
		       const struct boot_find_where *w)
{
	_cleanup_free_ char *p = NULL;

	return find_run(k, arch, w, NULL, &p) == 0;
}
