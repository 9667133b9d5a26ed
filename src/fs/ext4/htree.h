/* htree (dir_index) index blocks, private to dir.c and htree.c (docs/formats/ext4-dir.md). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fs/ext4/ext4-internal.h"

#define EXT4_DX_ROOT_COUNT_OFF 0x20u /* '.' (12) + '..' header (12) + dx_root_info (8) */
#define EXT4_DX_NODE_COUNT_OFF 0x08u /* fake dirent header */

/* One index entry: the lowest hash reachable through blk (entry 0's hash is implicit). */
struct ext4_dx_entry {
	uint32_t hash;
	uint32_t blk;
};

/* dx_entry slots in a root / interior node (the kernel's dx_root_limit / dx_node_limit). */
uint32_t ext4_dx_root_limit(bool csum);
uint32_t ext4_dx_node_limit(bool csum);
/* Encode block 0 of an indexed directory; count <= ext4_dx_root_limit(csum). */
void ext4_dx_root_encode(uint8_t *buf, uint32_t self_ino, uint32_t parent_ino,
			 enum ext4_hash_version version, uint8_t indirect_levels,
			 const struct ext4_dx_entry *e, uint32_t count, bool csum,
			 uint32_t inode_seed);
/* Encode an interior index node; count <= ext4_dx_node_limit(csum). */
void ext4_dx_node_encode(uint8_t *buf, const struct ext4_dx_entry *e, uint32_t count, bool csum,
			 uint32_t inode_seed);
