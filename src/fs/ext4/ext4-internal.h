/* ext4 writer internals shared between the planner (plan.c, emit.c, super.c, group.c,
 * inode.c, journal.c, resize.c) and the structure encoders (csum.c, dir.c, htree.c,
 * extent.c, xattr.c). All multi-byte fields little-endian (docs/formats/ext4.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/ext4/ext4.h"
#include "util/cleanup.h"

struct diag;
struct tree_xattr;

#define EXT4_BLOCK_SIZE 4096u
#define EXT4_INODE_SIZE 256u
#define EXT4_EXTRA_ISIZE 32u /* i_extra_isize as mke2fs sets it */
#define EXT4_ROOT_INO 2u
#define EXT4_RESIZE_INO 7u
#define EXT4_JOURNAL_INO 8u
#define EXT4_FIRST_INO 11u /* lost+found */
#define EXT4_NAME_MAX 255u
#define EXT4_MAX_EXTENT_LEN 32768u /* initialized extent */

/* Directory entry file types (dirent ->file_type). */
enum {
	EXT4_FT_UNKNOWN = 0,
	EXT4_FT_REG = 1,
	EXT4_FT_DIR = 2,
	EXT4_FT_CHR = 3,
	EXT4_FT_BLK = 4,
	EXT4_FT_FIFO = 5,
	EXT4_FT_SOCK = 6,
	EXT4_FT_SYMLINK = 7,
};

/* ---- csum.c: metadata_csum (crc32c) --------------------------------------------------- */

/* crc32c_le(~0, uuid, 16): the per-filesystem seed (no metadata_csum_seed feature). */
uint32_t ext4_csum_seed(const uint8_t uuid[16]);
/* crc32c_le(crc32c_le(csum_seed, le32 ino), le32 gen): seed for an inode's own blocks. */
uint32_t ext4_inode_seed(uint32_t csum_seed, uint32_t ino, uint32_t gen);
/* s_checksum over the first 1020 bytes. */
void ext4_super_csum_set(uint8_t sb[1024]);
/* bg_checksum for a descriptor (its checksum field is treated as zero). */
uint16_t ext4_group_desc_csum(uint32_t csum_seed, uint32_t group, const uint8_t *desc,
			      size_t desc_size);
/* i_checksum_lo/hi of an encoded inode of inode_size bytes. */
void ext4_inode_csum_set(uint8_t *inode, size_t inode_size, uint32_t csum_seed, uint32_t ino,
			 uint32_t gen);
/* Block/inode bitmap checksum over len bytes (the full 32-bit value; lo/hi split by caller). */
uint32_t ext4_bitmap_csum(uint32_t csum_seed, const uint8_t *bitmap, size_t len);
/* Extent tree block tail (struct ext4_extent_tail after eh_max entries). */
void ext4_extent_block_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed);
/* Linear directory leaf: the 12-byte fake dirent tail at the block's end. */
void ext4_dir_leaf_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed);
/* htree root/node: dx_tail after the dx_entry array whose count/limit is at count_off. */
void ext4_dx_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed, size_t count_off);
/* External xattr block: crc over le64 block number and the block with h_checksum zeroed. */
void ext4_xattr_block_csum_set(uint8_t *blk, size_t block_size, uint32_t csum_seed,
			       uint64_t blocknr);

/* ---- htree.c: directory hashes -------------------------------------------------------- */

enum ext4_hash_version {
	EXT4_HASH_LEGACY = 0,
	EXT4_HASH_HALF_MD4 = 1,
	EXT4_HASH_TEA = 2,
};

struct ext4_dir_hash {
	enum ext4_hash_version version; /* we write HALF_MD4, as mke2fs */
	bool unsigned_chars;            /* s_flags: we write SIGNED (0x1), fixed on every host */
	uint32_t seed[4];               /* s_hash_seed as four le32 words */
};

/* The kernel's ext4fs_dirhash(): major hash (low bit cleared) and minor hash. */
uint32_t ext4_dirhash(const struct ext4_dir_hash *h, const uint8_t *name, size_t len,
		      uint32_t *ret_minor);

/* ---- dir.c / htree.c: directory blocks ------------------------------------------------ */

struct ext4_dirent {
	const uint8_t *name; /* not NUL-terminated */
	uint8_t name_len;
	uint8_t file_type; /* EXT4_FT_* */
	uint32_t ino;
};

struct ext4_dir_layout;

/* Plan a directory's blocks. ents excludes "." and ".."; any order (sorted internally as the
 * layout needs). The layout points at the entries' names (not copied: a Nix store directory
 * has 50k of them): they must outlive it. One block or less: a linear directory. More: an htree (dx_root in block 0,
 * then index and leaf blocks), as the kernel would index it; up to 2 index levels
 * (no large_dir). With csum, every block carries its checksum tail. */
int ext4_dir_layout_new(const struct ext4_dirent *ents, size_t n, uint32_t self_ino,
			uint32_t parent_ino, const struct ext4_dir_hash *h, bool csum,
			struct diag *d, struct ext4_dir_layout **ret);
/* The same from entries produced one at a time (twice each): no array of them all. */
typedef void (*ext4_dirent_get_fn)(const void *ctx, size_t i, struct ext4_dirent *ret);
int ext4_dir_layout_build(ext4_dirent_get_fn get, const void *ctx, size_t n, uint32_t self_ino,
			  uint32_t parent_ino, const struct ext4_dir_hash *h, bool csum,
			  struct diag *d, struct ext4_dir_layout **ret);
uint32_t ext4_dir_layout_blocks(const struct ext4_dir_layout *l);
bool ext4_dir_layout_indexed(const struct ext4_dir_layout *l); /* set EXT4_INDEX_FL */
/* Encode logical block lblk into buf (EXT4_BLOCK_SIZE bytes, zeroed by caller). inode_seed is
 * ext4_inode_seed(csum_seed, self_ino, gen). */
void ext4_dir_block_encode(const struct ext4_dir_layout *l, uint32_t lblk, uint32_t inode_seed,
			   uint8_t *buf);
struct ext4_dir_layout *ext4_dir_layout_free(struct ext4_dir_layout *l);
DEFINE_CLEANUP_FUNC(struct ext4_dir_layout, ext4_dir_layout_free)

/* ---- extent.c: extent trees ----------------------------------------------------------- */

struct ext4_extent { /* 16 bytes: one per file (~130k on a Nix store) */
	uint64_t pblk;
	uint32_t lblk;
	uint32_t len; /* 1..EXT4_MAX_EXTENT_LEN */
};

/* Tree blocks a file with n extents needs beyond i_block (0 for n <= 4). */
uint32_t ext4_extent_tree_blocks(size_t n_extents);
/* Encode i_block[60]. tree_pblk lists the n_tree = ext4_extent_tree_blocks(n) blocks the
 * planner allocated for the tree, in the order ext4_extent_tree_block_encode numbers them. */
void ext4_extent_root_encode(uint8_t i_block[60], const struct ext4_extent *e, size_t n,
			     const uint64_t *tree_pblk);
/* Encode tree block k (0 <= k < n_tree) into buf (EXT4_BLOCK_SIZE bytes, zeroed by caller),
 * with its checksum tail (inode_seed as for directories). */
void ext4_extent_tree_block_encode(uint8_t *buf, uint32_t k, const struct ext4_extent *e,
				   size_t n, const uint64_t *tree_pblk, uint32_t inode_seed);

/* ---- xattr.c: extended attributes ----------------------------------------------------- */

/* Where a node's xattrs go: all in the inode body after i_extra_isize when they fit, else all
 * in one external block. -E2BIG (with a message naming the sizes) when they fit in neither. */
int ext4_xattr_placement(const struct tree_xattr *x, size_t n, struct diag *d,
			 bool *ret_needs_block);
/* Encode the in-inode xattr area (magic + entries + values) into inode + 128 +
 * EXT4_EXTRA_ISIZE, up to EXT4_INODE_SIZE. No-op for n == 0. */
void ext4_xattr_inode_encode(uint8_t *inode, const struct tree_xattr *x, size_t n);
/* Encode an external xattr block (refcount 1) with its checksum. */
void ext4_xattr_block_encode(uint8_t *buf, const struct tree_xattr *x, size_t n,
			     uint32_t csum_seed, uint64_t blocknr);
