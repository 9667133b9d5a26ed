/* Reading an existing ext4 superblock, for `mkdiskimage inspect` (users, not tests). */
#pragma once

#include <stdint.h>

struct diag;

#define EXT4_PROBE_SB_OFFSET 1024u
#define EXT4_PROBE_SB_SIZE 1024u

struct ext4_probe_info {
	char label[17];
	uint8_t uuid[16];
	uint32_t block_size;
	uint64_t n_blocks, free_blocks, reserved_blocks;
	uint32_t n_inodes, free_inodes;
	uint32_t feature_compat, feature_incompat, feature_ro_compat;
};

/* Decode the superblock found at byte 1024 of the filesystem. -EBADMSG (naming the field)
 * when it is not ext2/3/4 or is inconsistent; -ENOENT when the magic is absent. */
int ext4_probe(const uint8_t sb[EXT4_PROBE_SB_SIZE], struct diag *d, struct ext4_probe_info *ret);
