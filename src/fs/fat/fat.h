/* The native FAT writer (FAT12/16/32, VFAT long names) for the ESP and XBOOTLDR partitions:
 * plans a filesystem from a tree, then encodes its sectors on demand as image ranges.
 * Geometry follows mkfs.fat (dosfstools 4.2) without -F. See docs/formats/fat.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct diag;
struct image_plan;
struct tree;

enum fat_type {
	FAT_TYPE_12 = 12,
	FAT_TYPE_16 = 16,
	FAT_TYPE_32 = 32,
};

struct fat_params {
	uint64_t size_bytes;    /* the partition; whole 512-byte sectors are used */
	uint32_t hidden_sect;   /* the partition's first LBA (BPB_HiddSec, as mkfs.fat --offset) */
	char label[12];         /* up to 11 bytes, upper-case ASCII ("ESP", "BOOT") */
	uint32_t volume_id;     /* from uuid_derive_bytes(seed, "fat-volume-id:esp") */
	int64_t fs_time;        /* the volume label entry's time (seconds since 1970) */
	const char *what;       /* names the filesystem in messages: "ESP", "XBOOTLDR" */
	/* A data partition: the FAT type plain mkfs.fat picks (fat_geom_choose_plain); else
	 * (ESP, XBOOTLDR, BOOT) FAT32 whenever it fits (fat_geom_choose) */
	bool plain;
	uint64_t extra_bytes;   /* fat_min_size: free space (whole clusters) to keep */
};

/* The geometry mkfs.fat would choose for a filesystem of n_sect sectors. */
struct fat_geom {
	enum fat_type type;
	uint32_t n_sect;
	uint32_t sect_per_clus;
	uint32_t reserved_sect;
	uint32_t fat_sect;       /* sectors per FAT (2 FATs) */
	uint32_t root_entries;   /* FAT12/16 fixed root directory; 0 on FAT32 */
	uint32_t n_clus;         /* data clusters, numbered 2..n_clus + 1 */
	uint32_t data_sect;      /* first sector of cluster 2 */
};

struct fat_plan;

/* A volume label as mkfs.fat takes it: at most 11 bytes of printable ASCII without
 * "*+,./:;<=>?[\]| or a leading space; a-z upper-cased (FAT's label is upper case, as
 * Windows and systemd-repart write it). -EINVAL and *ret_why when refused. */
int fat_label_make(const char *label, char out[12], const char **ret_why);

/* The mkfs.fat geometry for n_sect sectors; -ENOSPC when FAT cannot fill that size. */
int fat_geom_choose(uint64_t n_sect, struct fat_geom *ret);

/* The geometry plain `mkfs.fat` (no -F) would choose: FAT32 from 512 MiB, FAT12/16 below. */
int fat_geom_choose_plain(uint64_t n_sect, struct fat_geom *ret);

/* Lay out the filesystem. -ENOSPC naming the size needed when size_bytes is too small; -EINVAL
 * naming the path for a node FAT cannot hold (symlink, device, fifo, socket, forbidden name,
 * file of 4 GiB or more). */
int fat_plan(const struct fat_params *p, const struct tree *t, struct diag *d,
	     struct fat_plan **ret);
/* The smallest size in whole MiB (as bytes) that fat_plan would accept for this tree, with
 * at least p->extra_bytes free in whole clusters. */
int fat_min_size(const struct fat_params *p, const struct tree *t, struct diag *d,
		 uint64_t *ret);
const struct fat_geom *fat_plan_geom(const struct fat_plan *plan);
uint32_t fat_plan_free_clusters(const struct fat_plan *plan);
/* Add every non-zero sector of the filesystem at byte offset base on the disk. The plan (and
 * the tree) must outlive the image plan's emission. */
void fat_plan_ranges(const struct fat_plan *plan, uint64_t base, struct image_plan *ip);
struct fat_plan *fat_plan_free(struct fat_plan *plan);
DEFINE_CLEANUP_FUNC(struct fat_plan, fat_plan_free)
