/* GRUB for BIOS (i386-pc), installed as grub-install and grub-bios-setup do it,
 * without a VM: core.img assembled by the GRUB package's own grub-mkimage (the
 * one external program a build runs), patched and embedded after the MBR
 * (legacy) or into the BIOS boot partition (GPT), and boot.img's code written
 * into the MBR. See docs/formats/grub-embed.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct boot_entry;
struct diag;
struct image_plan;
struct part_layout;
struct tree;

#define GRUB_CFG_PATH "/boot/grub/grub.cfg"

/* boot.img offsets (grub-core/boot/i386/pc/boot.S,
 * include/grub/i386/pc/boot.h). */
enum {
	GRUB_BOOT_BPB_START = 0x03, /* DOS BPB area: grub-bios-setup keeps the disk's bytes */
	GRUB_BOOT_BPB_END = 0x5a,
	GRUB_BOOT_KERNEL_SECTOR = 0x5c, /* le64: LBA of core.img's first sector */
	GRUB_BOOT_BOOT_DRIVE = 0x64,	/* 0xff: use the drive the BIOS passed in %dl */
	GRUB_BOOT_DRIVE_CHECK = 0x66,	/* 2-byte jmp, nop-ed for hard disks */
	GRUB_BOOT_CODE_END = 0x1b8,	/* disk signature, table and 0x55aa follow: untouched */
	GRUB_BOOT_SIZE = 512,
};

/* core.img's first sector (diskboot.img) ends with a block list, growing
 * downwards: 12-byte entries (grub-core/boot/i386/pc/diskboot.S, util/setup.c).
 */
enum {
	GRUB_BLOCKLIST_START = 0,    /* le64: first LBA */
	GRUB_BLOCKLIST_LEN = 8,	     /* le16: sectors */
	GRUB_BLOCKLIST_SEGMENT = 10, /* le16: real-mode segment to load them at */
	GRUB_BLOCKLIST_SIZE = 12,
	GRUB_BLOCKLIST_FIRST = GRUB_BOOT_SIZE - GRUB_BLOCKLIST_SIZE,
	GRUB_KERNEL_SEGMENT =
		0x800 + (GRUB_BOOT_SIZE >> 4), /* GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20 */
};

/* GRUB's i386-pc kernel header, in core.img's second sector (include/grub/offsets.h,
 * grub-core/boot/i386/pc/startup_raw.S) and the embedding limit of util/setup.c. */
enum {
	GRUB_KERNEL_RS_REDUNDANCY = 0x10, /* le32: Reed-Solomon parity bytes after the image */
	GRUB_KERNEL_NO_RS_LENGTH = 0x14,  /* le16: the kernel's head the parity does not cover */
	/* core and parity are loaded from 0x8000 and must end below 0x78000 */
	GRUB_CORE_MAX_SECT = (0x78000 - 0x9000) / GRUB_BOOT_SIZE,
};

/* The modules embedded into core.img: enough to find the root by UUID on MBR or
 * GPT, read ext4 and boot Linux from grub.cfg without loading anything from the
 * disk. */
#define GRUB_BIOS_MODULES                                                                          \
	"biosdisk", "part_msdos", "part_gpt", "ext2", "search", "search_fs_uuid", "normal",        \
		"linux", "echo", "serial", "terminal", "test", "configfile"

struct grub_bios_params {
	const char *grub_dir; /* i386-pc module directory: boot.img, diskboot.img, *.mod */
	const char *mkimage;  /* grub-mkimage of the same package; NULL: grub_mkimage_path() */
	const char *tmp_dir;  /* for grub-mkimage's input and output files */
	const char *fs_uuid;  /* the root filesystem's UUID, as `search --fs-uuid` reads it */
	uint64_t core_lba;    /* where core.img starts */
	uint64_t max_sect;    /* sectors available there */
};

struct grub_bios {
	uint8_t boot[GRUB_BOOT_SIZE]; /* patched boot.img; only [0,
					 GRUB_BOOT_CODE_END) is used */
	uint8_t *core;		      /* patched core.img and its Reed-Solomon parity */
	size_t core_len;	      /* whole sectors: grub_core_embed_sectors() */
	uint64_t core_lba;
};

struct grub_bios *grub_bios_free(struct grub_bios *g);
DEFINE_CLEANUP_FUNC(struct grub_bios, grub_bios_free)

/* grub-mkimage beside a GRUB package's module directory:
 * DIR/../../../bin/grub-mkimage (the layout of Debian's /usr/lib/grub/i386-pc
 * and of a NixOS grub package's lib/grub/i386-pc), or DIR/../../../bin/grub2-mkimage when
 * only that one is executable (Fedora's name for the same program). */
char *grub_mkimage_path(const char *grub_dir);

/* Read boot.img, run grub-mkimage, patch both and add core.img's Reed-Solomon parity. -ENOENT
 * naming the directory without boot.img, -ENOSPC when core.img and its parity do not fit
 * max_sect, -EBADMSG for a malformed image. */
int grub_bios_make(const struct grub_bios_params *p, struct diag *d, struct grub_bios **ret);

/* As grub-bios-setup: boot code only, BPB zeroed (a fresh disk's bytes), the
 * core's LBA, boot drive 0xff, drive check nop-ed. */
void grub_boot_img_patch(uint8_t boot[GRUB_BOOT_SIZE], uint64_t core_lba);
/* Point core.img's first block list at the sectors right after its first;
 * -EBADMSG when the image is not whole sectors or its block list area is not
 * empty. */
int grub_core_img_patch(uint8_t *core, size_t len, uint64_t core_lba, struct diag *d);

/* Sectors an embedded core.img of raw_len bytes takes with its Reed-Solomon parity, as
 * grub-bios-setup sizes it: twice the core's sectors, at most GRUB_CORE_MAX_SECT. */
size_t grub_core_embed_sectors(size_t raw_len);
/* Record the parity length (len - raw_len) in the kernel header and write the parity of the
 * image's protected part (past its first sector and the unprotected head) into
 * core[raw_len, len), as grub-bios-setup does; core[raw_len, len) must be zero. -EBADMSG for an
 * image without GRUB's kernel header. */
int grub_core_img_add_redundancy(uint8_t *core, size_t raw_len, size_t len, struct diag *d);

/* MBR boot code (bytes 0..439) and core.img as disk plan ranges; g must outlive
 * the plan. */
void grub_bios_plan_ranges(const struct grub_bios *g, struct image_plan *p);

/* Where core.img goes in a layout: after the MBR (legacy) or the BIOS boot
 * partition. -EINVAL with the fix for a layout without either (efi,
 * efixbootldr, none). */
int grub_bios_location(const struct part_layout *l, struct diag *d, uint64_t *ret_lba,
		       uint64_t *ret_sect);

/* /boot/grub/grub.cfg: one menu entry finding the root by filesystem UUID. */
struct grub_cfg_params {
	const char *fs_uuid;
	const char *title;   /* menu entry title */
	const char *kernel;  /* path inside the root filesystem */
	const char *initrd;  /* path inside the root filesystem, NULL: none */
	const char *cmdline; /* NULL: empty */
};
char *grub_cfg_text(const struct grub_cfg_params *p);

/* Add grub.cfg to the root tree (before it is finalized), and the kernel and initrd when they
 * are host files (/boot/kernel, /boot/initrd). -EEXIST when the tree has a grub.cfg already. */
int grub_install_files(struct tree *t, const struct boot_entry *e, const char *fs_uuid,
		       int64_t mtime, struct diag *d);

/* GRUB for UEFI (x86_64-efi): the same early config and grub.cfg, as one EFI binary for the ESP's
 * removable path (GRUB_EFI_PATH). */
#define GRUB_EFI_MODULES                                                                           \
	"part_gpt", "part_msdos", "ext2", "fat", "search", "search_fs_uuid", "normal", "linux",    \
		"echo", "serial", "terminal", "test", "configfile"
#define GRUB_EFI_PATH "/EFI/BOOT/BOOTX64.EFI"

struct grub_efi_params {
	const char *grub_dir; /* x86_64-efi module directory: kernel.img, *.mod */
	const char *mkimage;  /* NULL: grub_mkimage_path() */
	const char *tmp_dir;
	const char *fs_uuid;
};

/* grub-mkimage -O x86_64-efi; -ENOENT naming a directory that is not x86_64-efi's. */
int grub_efi_make(const struct grub_efi_params *p, struct diag *d, uint8_t **ret, size_t *ret_len);
