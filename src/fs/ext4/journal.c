/* The internal journal (inode 8): its default size and the JBD2 v2 superblock in its first
 * block, as e2fsprogs' mkjournal.c writes them. JBD2 fields are big-endian.
 * docs/formats/ext4.md, "Journal". */
#include "fs/ext4/ext4-plan.h"

#include <string.h>

#include "util/endian.h"

/* journal_superblock_t (include/linux/jbd2.h) */
enum {
	JBD2_H_MAGIC = 0x00,
	JBD2_H_BLOCKTYPE = 0x04,
	JBD2_H_SEQUENCE = 0x08,
	JBD2_SB_BLOCKSIZE = 0x0c,
	JBD2_SB_MAXLEN = 0x10,
	JBD2_SB_FIRST = 0x14,
	JBD2_SB_SEQUENCE = 0x18,
	JBD2_SB_START = 0x1c,
	JBD2_SB_UUID = 0x30,
	JBD2_SB_NR_USERS = 0x40,
};

#define JBD2_MAGIC 0xc03b3998u
#define JBD2_SUPERBLOCK_V2 4u

/* ext2fs_default_journal_size(): blocks of a journal for a filesystem of n_blocks. */
uint32_t ext4_journal_default_blocks(uint64_t n_blocks)
{
	static const struct {
		uint64_t below;
		uint32_t blocks;
	} table[] = {
		{ 2048, 0 },	       { 32768, 1024 },	       { 256 * 1024, 4096 },
		{ 512 * 1024, 8192 },  { 4096 * 1024, 16384 }, { 8192 * 1024, 32768 },
		{ 16384 * 1024, 65536 }, { 32768 * 1024, 131072 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (n_blocks < table[i].below)
			return table[i].blocks;
	return 262144;
}

/* Empty journal: no transactions (s_start 0), first transaction will be sequence 1, one
 * user (this filesystem); mke2fs 1.47 enables no journal checksum features. */
void ext4_journal_super_encode(const struct ext4_plan *pl, uint8_t *buf)
{
	be32_put(buf + JBD2_H_MAGIC, JBD2_MAGIC);
	be32_put(buf + JBD2_H_BLOCKTYPE, JBD2_SUPERBLOCK_V2);
	be32_put(buf + JBD2_SB_BLOCKSIZE, EXT4_BLOCK_SIZE);
	be32_put(buf + JBD2_SB_MAXLEN, pl->g.journal_blocks);
	be32_put(buf + JBD2_SB_FIRST, 1);
	be32_put(buf + JBD2_SB_SEQUENCE, 1);
	be32_put(buf + JBD2_SB_START, 0);
	memcpy(buf + JBD2_SB_UUID, pl->p.uuid, 16);
	be32_put(buf + JBD2_SB_NR_USERS, 1);
}
