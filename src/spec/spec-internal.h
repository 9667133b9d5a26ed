/* Shared by the spec's JSON reader and flag parser: one setter per value, so a key and its
 * flag accept exactly the same text. `what` names the input in messages, already formatted:
 * `--disk-size 12X` for a flag, `diskSize "12X"` for a key. */
#pragma once

#include <stdbool.h>

#include "spec/spec.h"

/* base_dir + "/" + path for a relative path when base_dir is set (spec files); else a copy. */
char *spec_path_resolve(const char *base_dir, const char *path);
/* Replace *field with v resolved against base_dir (NULL: as given). */
void spec_set_path(char **field, const char *v, const char *base_dir);

int spec_set_root(struct image_spec *s, const char *v, const char *base_dir, const char *what,
		  struct diag *d);
/* "esp", "xbootldr": a host directory for a boot partition (*field replaced). */
int spec_set_boot_tree(char **field, const char *v, const char *base_dir, const char *what,
		       struct diag *d);
int spec_set_part_table(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_fs_type(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_label(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_disk_size(struct image_spec *s, const char *v, const char *what, struct diag *d);
/* A size of at most max bytes; `limit` says why, e.g. "at most 16T: ext4's limit". */
int spec_set_size(uint64_t *field, uint64_t max, const char *limit, const char *v,
		  const char *what, struct diag *d);
/* additionalSpace: the root filesystem (ext4, 2^32 blocks of 4 KiB) holds at most 16 TiB. */
#define SPEC_ADDITIONAL_SPACE_MAX (16ull << 40)
#define SPEC_ADDITIONAL_SPACE_LIMIT "at most 16T: an ext4 root holds at most 16 TiB"
/* bootSize ends the boot partitions: FAT (32-bit sector counts) holds at most 2 TiB. */
#define SPEC_BOOT_SIZE_MAX (2ull << 40)
#define SPEC_BOOT_SIZE_LIMIT "at most 2T: a FAT boot partition holds at most 2 TiB"

int spec_set_format(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_base_name(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_seed(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_uuid(uint8_t field[16], bool *set, const char *v, const char *what, struct diag *d);
int spec_set_owner(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_arch(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_reserved_percent(struct image_spec *s, const char *v, const char *what,
			      struct diag *d);
/* Append one contents entry (copies every string; source resolved against base_dir). */
void spec_contents_add(struct image_spec *s, const struct contents_entry *e, const char *base_dir);
void spec_contents_clear(struct image_spec *s);

/* "bootloader": auto, systemd-boot, grub or none. */
int spec_set_bootloader(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_cluster_size(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_compression(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_compression_level(struct image_spec *s, const char *v, const char *what,
			       struct diag *d);
int spec_set_threads(struct image_spec *s, const char *v, const char *what, struct diag *d);
int spec_set_vpc_subformat(struct image_spec *s, const char *v, const char *what,
			   struct diag *d);
