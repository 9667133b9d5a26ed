/* What the build library's files share: the plan's private state and the steps of
 * build_plan(), one concern per file (ids.c, root.c, boot.c, plan.c, emit.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"
#include "boot/efivars.h"
#include "boot/grub.h"
#include "build/build.h"
#include "format/format.h"
#include "fs/ext4/ext4.h"
#include "fs/fat/fat.h"
#include "image/plan.h"
#include "spec/spec.h"
#include "tree/tree.h"
#include "util/cleanup.h"

DEFINE_CLEANUP_FUNC(struct tree, tree_free)
DEFINE_CLEANUP_FUNC(struct ext4_plan, ext4_plan_free)
DEFINE_CLEANUP_FUNC(struct image_plan, image_plan_free)
DEFINE_CLEANUP_FUNC(struct fat_plan, fat_plan_free)
DEFINE_CLEANUP_FUNC(struct efivars, efivars_free)
DEFINE_CLEANUP_FUNC(struct boot_entry, boot_entry_free)
DEFINE_CLEANUP_FUNC(struct sdboot, sdboot_free)
DEFINE_CLEANUP_FUNC(struct grub_bios, grub_bios_free)

/* A FAT boot partition (ESP, XBOOTLDR): its tree and plan, alive until emission ends. */
struct build_boot {
	struct tree *t;
	struct fat_plan *fs;
	uint64_t off;
	uint8_t *grub_efi; /* GRUB for UEFI, for the ESP's removable path (or NULL) */
	size_t grub_efi_len;
};

struct build_plan_state {
	const struct image_spec *s;
	const struct format_ops *fmt;
	struct format_params fp; /* fp.seed points at seed */
	char *seed;
	struct ext4_params ep;
	struct part_params pp;
	struct tree *t;
	struct sdboot *sdboot;
	struct grub_bios *grub;
	struct build_boot esp, xbootldr;
	struct efivars *vars;
	struct ext4_plan *fs;
	struct image_plan *ip;
	bool emitted;
};

/* ids.c: the seed (or a random one), rootGPUID, the ext4 UUID and hash seed. */
int build_ids(const struct image_spec *s, char **ret_seed, struct ext4_params *ep,
	      uint8_t root_gpuid[16], struct diag *d);
/* ids.c: the sink's parameters (identifiers from the seed, the timestamp). */
void build_format_params(const struct image_spec *s, const struct build_env *env,
			 const char *seed, uint64_t disk_bytes, struct format_params *ret);

/* root.c: the root tree (root, contents, Nix closure, GRUB's grub.cfg), finalized. */
int build_root_tree(const struct image_spec *s, const struct build_env *env,
		    const uint8_t fs_uuid[16], struct diag *d, struct tree **ret);
/* root.c: size the disk for the tree (auto, or check a fixed diskSize). */
int build_layout(const struct image_spec *s, const struct tree *t, const struct ext4_params *ep,
		 struct part_params *pp, struct diag *d, struct part_layout *ret,
		 uint64_t *ret_root_min);

/* boot.c: what the bootloader boots (--kernel or the toplevel's bootspec). */
int build_boot_entry(const struct image_spec *s, struct diag *d, struct boot_entry **ret);
/* boot.c: whether GRUB's grub.cfg goes into the root tree, and GRUB for BIOS is embedded. */
bool build_wants_grub_cfg(const struct image_spec *s);
/* boot.c: systemd-boot's files, resolved against the root tree (NULL: not installed). */
int build_sdboot(const struct image_spec *s, const struct build_env *env, const struct tree *t,
		 struct diag *d, struct sdboot **ret);
/* boot.c: GRUB for UEFI's binary into esp->grub_efi (bootloader grub with grubEfiDir). */
int build_grub_efi(const struct image_spec *s, const struct build_env *env,
		   const uint8_t fs_uuid[16], struct diag *d, struct build_boot *esp);
/* boot.c: the FAT partition with `role` (none in the layout: nothing to do). */
int build_boot_plan(const struct build_env *env, const struct part_layout *l,
		    enum part_role role, const char *src, const struct sdboot *sdboot,
		    const char *seed, int64_t fs_time, struct diag *d, struct build_boot *ret);
void build_boot_done(struct build_boot *b);
/* boot.c: touchEFIVars' variable store (NULL: not asked for). */
int build_efi_vars(const struct image_spec *s, const struct part_layout *l,
		   const struct tree *esp, struct diag *d, struct efivars **ret);
/* boot.c: GRUB for BIOS's boot.img and core.img (NULL: not installed). */
int build_grub_bios(const struct image_spec *s, const struct build_env *env,
		    const struct part_layout *l, const uint8_t fs_uuid[16], struct diag *d,
		    struct grub_bios **ret);
