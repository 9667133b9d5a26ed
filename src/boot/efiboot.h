/* The boot entry bootctl makes for systemd-boot, written into a variable store: Boot0000
 * (EFI_LOAD_OPTION "Linux Boot Manager", HD(ESP)/\EFI\systemd\systemd-boot<arch>.efi) and
 * BootOrder with 0000 first. See docs/formats/efivars.md. */
#pragma once

#include <stdint.h>

#include "boot/devpath.h"

struct diag;
struct efivars;

#define EFIBOOT_DESCRIPTION "Linux Boot Manager" /* bootctl's title for systemd-boot */
#define EFIBOOT_NUMBER 0x0000

/* Set Boot0000 (attributes NV|BS|RT) for the loader file on the ESP hd, replacing any
 * Boot0000 there, and BootOrder = 0000 followed by the template's other entries, as bootctl
 * prepends its entry. */
int efiboot_add(struct efivars *v, const struct devpath_hd *hd, const char *file,
		struct diag *d);
