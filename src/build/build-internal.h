/* What the build library's files share: the plan's private state and the steps of
 * build_plan(), one concern per file (ids.c, root.c, boot.c, plan.c, emit.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"
#include "boot/efivars.h"
#include "boot/grub.h"
#include "build/model.h"
#include "build/build.h"
#include "format/format.h"
#include "fs/ext4/ext4.h"
#include "fs/fat/fat.h"
#include "fs/fs.h"
#include "image/plan.h"
#include "spec/spec.h"
#include "tree/tree.h"
#include "util/cleanup.h"

/* One filesystem of the disk being built (a volume of the model), alive until emission ends. */
struct build_vol {
	const struct build_volume *v; /* the model's: role, filesystem, contents, label */
	const struct fs_ops *ops;
	struct tree *t;        /* its own tree; the image tree's volume uses the state's */
	struct fs_plan *plan;  /* NULL until planned */
	uint64_t off, len;     /* on the disk */
	struct fs_stats stats;
};

struct build_plan_state {
	const struct image_spec *s;
	const struct format_ops *fmt;
	struct format_params fp; /* fp.seed points at seed */
	char *seed;
	struct ext4_params ep;   /* the root's identifiers (build_ids) and fs time */
	struct part_params pp;
	struct build_model *model;
	struct part_request *reqs; /* the model's requests with the contents' needs (lists) */
	struct build_vol *vols;    /* one per model volume, in partition order */
	size_t n_vols;
	struct tree *t;            /* the image tree: root, contents, closure */
	struct sdboot *sdboot;
	struct grub_bios *grub;
	uint8_t *grub_efi; /* GRUB for UEFI, for the ESP's removable path (or NULL) */
	size_t grub_efi_len;
	struct efivars *vars;
	struct image_plan *ip;
	bool emitted;
};

/* ids.c: the seed (or a random one), rootGPUID, the ext4 UUID and hash seed. */
int build_ids(const struct image_spec *s, char **ret_seed, struct ext4_params *ep,
	      uint8_t root_gpuid[16], struct diag *d);

/* root.c: the root tree (root_dir, contents, Nix closure, GRUB's grub.cfg), finalized. */
int build_root_tree(const struct image_spec *s, const char *root_dir,
		    const struct build_env *env, const uint8_t fs_uuid[16], struct diag *d,
		    struct tree **ret);
/* root.c: size the disk for the tree (auto, or check a fixed diskSize); st->pp's list (if
 * any) carries the other partitions' needs already. */
int build_layout(struct build_plan_state *st, const struct build_vol *root, struct diag *d,
		 struct part_layout *ret, uint64_t *ret_root_min);

/* boot.c: what the bootloader boots (--kernel or the toplevel's bootspec). */
int build_boot_entry(const struct image_spec *s, struct diag *d, struct boot_entry **ret);
/* boot.c: whether GRUB's grub.cfg goes into the root tree, and GRUB for BIOS is embedded. */
bool build_wants_grub_cfg(const struct image_spec *s);
/* boot.c: systemd-boot's files, resolved against the root tree (NULL: not installed). */
int build_sdboot(const struct image_spec *s, const struct build_model *m,
		 const struct build_env *env, const struct tree *t, struct diag *d,
		 struct sdboot **ret);
/* boot.c: GRUB for UEFI's binary (bootloader grub with grubEfiDir), for the ESP. */
int build_grub_efi(const struct image_spec *s, const struct build_env *env,
		   const uint8_t fs_uuid[16], struct diag *d, struct build_plan_state *st);
/* boot.c: a boot partition's tree: the host tree src, systemd-boot's files, GRUB for UEFI
 * (esp), finalized. */
/* A volume's CopyFiles=/MakeDirectories= (definitions) onto its tree. */
int build_volume_copies(const struct image_spec *s, const struct build_volume *v,
			struct tree *t, struct diag *d);
int build_boot_tree(const struct build_env *env, const struct build_plan_state *st,
		    const struct build_volume *v, struct diag *d, struct tree **ret);
/* boot.c: a too-small boot partition of a preset: -ENOSPC naming the bootSize that fits. */
int build_boot_too_small(const struct image_spec *s, const struct build_vol *bv,
			 uint64_t need, struct diag *d);
/* boot.c: touchEFIVars' variable store (NULL: not asked for). */
/* Where GRUB for UEFI goes on the ESP: EFI/ID/grubx64.efi with grubEfiBootloaderId, else the
 * removable path. */
char *build_grub_efi_path(const struct image_spec *s);
int build_efi_vars(const struct image_spec *s, const struct part_layout *l,
		   const struct tree *esp, struct diag *d, struct efivars **ret,
		   const char **ret_note);
/* boot.c: GRUB for BIOS's boot.img and core.img (NULL: not installed). */
int build_grub_bios(const struct image_spec *s, const struct build_env *env,
		    const struct part_layout *l, const uint8_t fs_uuid[16], struct diag *d,
		    struct grub_bios **ret);

/* volumes.c: each volume's handler (-EINVAL naming an unknown filesystem). */
int build_volumes_init(struct build_plan_state *st, struct diag *d);
/* volumes.c: the trees of the volumes that are not the image tree's. */
int build_volume_trees(struct build_plan_state *st, const struct build_env *env,
		       struct diag *d);
/* volumes.c: the needs of lists' "auto"/"rest" partitions other than the root's. */
int build_volume_needs(struct build_plan_state *st, struct diag *d);
/* volumes.c: the request for a volume (size and offset from the layout when planning). */
void build_volume_request(const struct build_plan_state *st, const struct build_vol *bv,
			  struct fs_request *ret);
/* volumes.c: plan every volume in its partition of layout l. */
int build_volumes_plan(struct build_plan_state *st, const struct part_layout *l,
		       struct diag *d);
/* basic-data partitions on MBR: the type byte of the FAT each got (0x01, 0x0e, 0x0c). */
void build_volumes_mbr_types(const struct build_plan_state *st, struct part_layout *l);
/* volumes.c: the volume of a role (the first), NULL when the disk has none. */
struct build_vol *build_vol_find(struct build_plan_state *st, enum part_role role);
void build_volumes_free(struct build_plan_state *st);
