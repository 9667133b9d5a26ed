/* The ext4 plan: geometry, block allocation and per-inode state shared by plan.c, group.c,
 * super.c, inode.c, journal.c, resize.c and emit.c. Layout rules: docs/formats/ext4.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/ext4/ext4-internal.h"

struct tree;
struct tree_node;

#define EXT4_BLOCKS_PER_GROUP 32768u
#define EXT4_DESC_SIZE 64u
#define EXT4_DESC_PER_BLOCK (EXT4_BLOCK_SIZE / EXT4_DESC_SIZE)
#define EXT4_INODES_PER_BLOCK (EXT4_BLOCK_SIZE / EXT4_INODE_SIZE)
#define EXT4_LOG_GROUPS_PER_FLEX 4u
#define EXT4_FLEX_SIZE (1u << EXT4_LOG_GROUPS_PER_FLEX)
#define EXT4_ADDR_PER_BLOCK (EXT4_BLOCK_SIZE / 4u)
#define EXT4_LPF_BLOCKS 4u /* lost+found: 16 KiB, as mke2fs */
#define EXT4_MAX_BLOCKS 0xffffffffull /* resize_inode needs 32-bit block numbers */

/* Block ranges [start, end) holding metadata fixed before data allocation. */
struct ext4_ival {
	uint64_t start, end;
};

struct ext4_geom {
	uint64_t n_blocks;
	uint32_t n_groups;
	uint32_t desc_blocks, rsv_gdt_blocks;
	uint32_t inodes_per_group, itable_blocks;
	uint32_t n_inodes;
	uint64_t reserved_blocks;
	uint32_t journal_blocks;
	/* When mke2fs's rule dropped a too-small last group (n_blocks is less than asked): a
	 * lower bound of the sizes that keep it. 0 otherwise. */
	uint64_t keep_last_from;
	uint64_t *bb_loc, *ib_loc, *it_loc; /* per group */
};

/* Kinds of inodes the planner writes. */
enum ext4_ino_kind {
	EXT4_INO_UNUSED = 0, /* reserved inodes 1, 3-6, 9, 10: checksummed zero inodes */
	EXT4_INO_ROOT,       /* tree root, inode 2 */
	EXT4_INO_RESIZE,
	EXT4_INO_JOURNAL,
	EXT4_INO_LPF,  /* synthesized lost+found */
	EXT4_INO_NODE, /* a tree node (also /lost+found when the tree has one) */
};

struct ext4_ino { /* 40 bytes: one per inode (120k on a Nix store) */
	const struct tree_node *node; /* NULL for synthesized inodes */
	uint64_t n_blocks : 48;  /* all blocks charged to the inode (data, tree, xattr) */
	uint64_t kind : 8;       /* enum ext4_ino_kind */
	uint64_t xattr_block : 1; /* the xattrs take an external block */
	uint64_t xattr_blk : 48; /* ext4 block numbers have 48 bits */
	uint64_t links : 16;     /* i_links_count: at most EXT4_LINK_MAX */
	uint32_t dir;              /* index into plan->dirs, directories only */
	uint32_t ext_first, n_ext; /* into plan->ext */
	uint32_t tree_first;       /* into plan->tree_blk, ext4_extent_tree_blocks(n_ext) */
};

/* What the planner keeps of a directory: its size and format. The layout itself (every
 * name, sorted and cut into blocks) is rebuilt from the tree at emit time, one directory at a
 * time (ext4_plan_dir_layout): keeping all of them alive would cost ~60 bytes per entry for
 * the whole build, against one more hashing pass over the names (cheap next to the I/O). */
struct ext4_dir_info {
	uint32_t blocks;
	bool indexed;
};

/* The one directory layout alive at emit time (mutable behind a const plan). */
struct ext4_dir_cache {
	uint32_t ino;
	struct ext4_dir_layout *l;
};

struct ext4_plan {
	struct ext4_params p;
	const struct tree *tree;
	uint32_t csum_seed;
	struct ext4_dir_hash hash;

	/* Fixed by the tree, independent of the filesystem size. */
	struct ext4_ino *ino; /* ino[i] is inode i + 1, for 1..n_used */
	uint32_t n_used;      /* highest inode number in use */
	struct ext4_dir_info *dirs;
	size_t n_dirs;
	struct ext4_dir_cache *dir_cache;
	uint32_t *node_ino; /* tree node index -> inode number */
	uint64_t fixed_blocks; /* blocks of dirs, xattr blocks, slow symlinks (no extent trees) */

	/* Size-dependent layout (ext4_layout). */
	struct ext4_geom g;
	struct ext4_ival *used; /* sorted, disjoint, merged */
	size_t n_used_ival, cap_used_ival;
	uint64_t dind_blk;  /* resize inode's double-indirect block */
	uint64_t data_end;  /* every free block below this is allocated */
	struct ext4_extent *ext;
	size_t n_ext, cap_ext;
	uint64_t *tree_blk;
	size_t n_tree_blk, cap_tree_blk;
	uint64_t free_blocks;
	uint64_t data_blocks;

	/* Per-group figures, filled by ext4_plan after the final layout. */
	uint32_t *grp_free_blocks, *grp_free_inodes, *grp_dirs, *grp_bb_csum, *grp_ib_csum;
};

/* ---- group.c ---- */
bool ext4_group_has_super(uint32_t group);
uint32_t ext4_rsv_gdt_blocks(uint64_t n_blocks, uint32_t desc_blocks);
/* Inodes per group for n_inodes wanted over n_groups, rounded like mke2fs. 0: too many. */
uint32_t ext4_inodes_per_group(uint64_t n_inodes, uint32_t n_groups);
/* Geometry and metadata placement for n_blocks. -ENOSPC when the metadata does not fit. */
int ext4_geom_init(struct ext4_plan *pl, uint64_t n_blocks, uint64_t min_inodes);
void ext4_used_add(struct ext4_plan *pl, uint64_t start, uint64_t len);
/* First block b >= start with [b, b + n) free and b < finish; -ENOSPC if none. */
int ext4_find_free(const struct ext4_plan *pl, uint64_t start, uint64_t finish, uint64_t n,
		   uint64_t *ret);
/* Index of the first used interval ending after blk (n_used_ival when none). */
size_t ext4_used_find(const struct ext4_plan *pl, uint64_t blk);
bool ext4_block_in_use(const struct ext4_plan *pl, uint64_t blk);
/* Encode group g's block / inode bitmap (EXT4_BLOCK_SIZE bytes, zeroed by caller). */
void ext4_block_bitmap_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *buf);
void ext4_inode_bitmap_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *buf);
void ext4_group_desc_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *desc);
/* Fill the per-group counters and bitmap checksums. */
void ext4_group_stats(struct ext4_plan *pl);

/* ---- super.c ---- */
void ext4_super_encode(const struct ext4_plan *pl, uint32_t group, uint8_t sb[1024]);

/* ---- journal.c ---- */
uint32_t ext4_journal_default_blocks(uint64_t n_blocks);
void ext4_journal_super_encode(const struct ext4_plan *pl, uint8_t *buf);

/* ---- resize.c ---- */
/* Blocks the resize inode owns: its dind block and every reserved GDT block copy. */
uint64_t ext4_resize_inode_blocks(const struct ext4_geom *g);
void ext4_resize_dind_encode(const struct ext4_plan *pl, uint8_t *buf);
/* Primary reserved GDT block k: the le32 list of its backups. */
void ext4_resize_gdt_encode(const struct ext4_plan *pl, uint32_t k, uint8_t *buf);
void ext4_resize_inode_fill(const struct ext4_plan *pl, uint8_t *inode);

/* ---- inode.c ---- */
/* Encode inode number ino (EXT4_INODE_SIZE bytes, zeroed by caller), with its checksum. */
void ext4_inode_encode(const struct ext4_plan *pl, uint32_t ino, uint8_t *buf);

/* ---- plan.c ---- */
/* The layout of directory inode ino (a tree directory), built on first use and kept until the
 * next directory is asked for: the result is valid until then. */
int ext4_plan_dir_layout(const struct ext4_plan *pl, uint32_t ino, struct diag *d,
			 const struct ext4_dir_layout **ret);
static inline const struct ext4_ino *ext4_plan_ino(const struct ext4_plan *pl, uint32_t ino)
{
	return &pl->ino[ino - 1];
}
