/* The native ext4 writer: plans a filesystem from a tree, then encodes its blocks on demand
 * as image ranges. See docs/formats/ext4.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct diag;
struct image_plan;
struct tree;

struct ext4_params {
	/* Filesystem size in bytes (rounded down to whole blocks). 0 = auto: the smallest size
	 * that holds the tree and leaves extra_bytes available to unprivileged users. */
	uint64_t size_bytes;
	uint64_t extra_bytes; /* also with size_bytes: extra_bytes / inode_ratio inodes free */
	char label[17];             /* up to 16 bytes */
	uint8_t uuid[16];           /* filesystem UUID (rootFSUID) */
	uint8_t hash_seed[16];      /* directory hash seed */
	uint32_t reserved_percent;  /* root-reserved blocks, default 5 */
	uint32_t inode_ratio;       /* bytes per inode, default 16384 */
	int64_t fs_time;            /* mkfs, last check, last write time: fixed */
	bool journal;               /* has_journal, default true */
};

struct ext4_stats {
	uint64_t size_bytes;
	uint64_t n_blocks, free_blocks, reserved_blocks;
	uint32_t n_inodes, free_inodes;
	uint32_t n_groups;
	uint32_t journal_blocks;
	uint64_t data_blocks;     /* file, directory, symlink, extent and xattr blocks */
	uint64_t metadata_blocks; /* superblocks, GDT, reserved GDT, bitmaps, inode tables */
};

struct ext4_plan;
struct fs_io;

/* What ext4_grow did. */
struct ext4_grow_info {
	uint64_t old_blocks, new_blocks; /* filesystem blocks */
	uint32_t old_groups, new_groups;
	uint32_t block_size;
};

/* Grow the ext4 filesystem io holds to new_bytes (rounded down to whole blocks), offline, as
 * resize2fs would without moving anything: the last group completed, new block groups (their
 * bitmaps, inode tables, backup superblocks and GDTs), group descriptor blocks taken from the
 * reserved GDT blocks (the resize inode updated), free counts and checksums. Bytes past the old
 * end must read as zeros (they are not written when zeros are wanted). New metadata is written
 * first, the group descriptors next and the superblock last, so that a failure part way leaves
 * the old filesystem intact. -ENOSPC naming the largest size reachable when the reserved GDT
 * blocks do not suffice; -EINVAL for new_bytes below the current size; 0 with old == new when
 * there is nothing to do. */
int ext4_grow(const struct fs_io *io, uint64_t new_bytes, struct ext4_grow_info *ret,
	      struct diag *d);

/* Lay out the whole filesystem. -ENOSPC naming the size needed when size_bytes is too small. */
int ext4_plan(const struct ext4_params *p, const struct tree *t, struct diag *d,
	      struct ext4_plan **ret);
/* What a caller can offer for a filesystem of at least min_bytes (>= min_bytes): e.g. the
 * root partition of the smallest whole-MiB disk that holds it. */
struct ext4_size_fit {
	int (*fn)(void *ctx, uint64_t min_bytes, uint64_t *ret_bytes);
	void *ctx;
};

/* The smallest size in bytes (whole blocks) that ext4_plan would accept for this tree with
 * p->extra_bytes available and p->extra_bytes / p->inode_ratio inodes free (p->size_bytes is
 * ignored). With fit (may be NULL), the smallest request whose offer fits: every smaller
 * request's offer leaves less. */
int ext4_min_size(const struct ext4_params *p, const struct tree *t,
		  const struct ext4_size_fit *fit, struct diag *d, uint64_t *ret);
uint64_t ext4_plan_size(const struct ext4_plan *plan);
void ext4_plan_stats(const struct ext4_plan *plan, struct ext4_stats *ret);
/* Add every non-zero block of the filesystem, at byte offset base on the disk. The plan must
 * outlive the image plan's emission. */
void ext4_plan_ranges(const struct ext4_plan *plan, uint64_t base, struct image_plan *ip);
struct ext4_plan *ext4_plan_free(struct ext4_plan *plan);
DEFINE_CLEANUP_FUNC(struct ext4_plan, ext4_plan_free)
