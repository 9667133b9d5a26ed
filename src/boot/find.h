/* Where a build finds what it does not make: systemd-boot's EFI binary, GRUB's module
 * directories and the firmware's variable-store template. Each has one list of places, by the
 * image's arch, tried in order (Debian's, then a NixOS host's); the flags --systemd-boot-efi,
 * --grub-dir, --grub-efi-dir and --efi-vars-template override them. spec/validate.c fills
 * those keys from here, boot/systemd-boot.c and check/ (boot-test's OVMF) ask here too. */
#pragma once

#include <stdbool.h>

#include "part/part.h"

struct diag;

enum boot_find_kind {
	BOOT_FIND_SDBOOT,    /* systemd-boot<arch>.efi, a regular file */
	BOOT_FIND_GRUB_BIOS, /* GRUB's i386-pc directory: boot.img, and grub-mkimage beside it */
	BOOT_FIND_GRUB_EFI,  /* GRUB's <arch>-efi directory: kernel.img, and grub-mkimage */
	BOOT_FIND_EFI_VARS,  /* the firmware's variable store (OVMF_VARS_4M.fd), a regular file */
};

/* Where to look. root prefixes every default place (a test's fake filesystem; NULL or "":
 * the host's /); system is a NixOS toplevel whose own systemd comes first for
 * BOOT_FIND_SDBOOT (not prefixed: it is the user's path); NULL: none. */
struct boot_find_where {
	const char *root;
	const char *system;
	const char *flag; /* the override the error names; NULL: build's ("--grub-dir DIR") */
};

/* The default places for kind and arch, NULL-terminated, without root and system; NULL
 * when the arch has none (--help and the tests list them from here). */
const char *const *boot_find_places(enum boot_find_kind k, enum part_arch arch);

/* The first place that has it: 0 and a malloc'd path. -ENOENT when none has, with a message
 * naming every path tried, the package to install and the flag to give ("systemd-boot: no
 * systemd-bootx64.efi found (tried ...; install systemd-boot-efi or give --systemd-boot-efi
 * F)"; for the firmware template without a "what: " prefix, the caller's); -ENOTSUP when the
 * arch has no places. */
int boot_find(enum boot_find_kind k, enum part_arch arch, const struct boot_find_where *w,
	      struct diag *d, char **ret);

/* True when boot_find() would succeed (auto's question: is it there?). */
bool boot_find_present(enum boot_find_kind k, enum part_arch arch,
		       const struct boot_find_where *w);
