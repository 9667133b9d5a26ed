/* The boot entry bootctl makes for systemd-boot, written into a variable store: Boot#### (an
 * EFI_LOAD_OPTION "Linux Boot Manager", HD(ESP)/\EFI\systemd\systemd-boot<arch>.efi; Boot0000
 * in a fresh OVMF store) and BootOrder with it first. See docs/formats/efivars.md. */
#pragma once

#include <stdint.h>

#include "boot/devpath.h"

struct diag;
struct efivars;

#define EFIBOOT_DESCRIPTION "Linux Boot Manager" /* bootctl's title for systemd-boot */

/* Set Boot#### (attributes NV|BS|RT) for the loader file on the ESP hd, and BootOrder = ####
 * followed by the template's other entries, as bootctl does: #### is the entry with the same
 * device path (replaced), else the lowest unused number. ret_number (may be NULL) gets it. */
int efiboot_add(struct efivars *v, const struct devpath_hd *hd, const char *file,
		struct diag *d, uint16_t *ret_number);
/* The same with another title: efibootmgr -L TITLE, as grub-install --bootloader-id=TITLE
 * registers GRUB (NixOS' boot.loader.grub with canTouchEfiVariables). */
int efiboot_add_titled(struct efivars *v, const struct devpath_hd *hd, const char *file,
		       const char *title, struct diag *d, uint16_t *ret_number);
