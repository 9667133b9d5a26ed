/* erofs superblock: struct erofs_super_block (Linux fs/erofs/erofs_fs.h), 128 bytes at byte
 * 1024, and its CRC-32C (EROFS_FEATURE_COMPAT_SB_CHKSUM, fs/erofs/super.c
 * erofs_superblock_csum_verify: crc32c(~0, sb .. end of block 0) with the field zero). */
#include "fs/erofs/erofs.h"

#include <errno.h>
#include <string.h>

#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"

void erofs_super_encode(uint8_t p[EROFS_SB_SIZE], const struct erofs_super *s)
{
	memset(p, 0, EROFS_SB_SIZE);
	le32_put(p + EROFS_SB_MAGIC, EROFS_MAGIC);
	le32_put(p + EROFS_SB_FEATURE_COMPAT, s->feature_compat);
	p[EROFS_SB_BLKSZBITS] = s->blkszbits;
	le16_put(p + EROFS_SB_ROOT_NID, s->root_nid);
	le64_put(p + EROFS_SB_INOS, s->inos);
	le64_put(p + EROFS_SB_BUILD_TIME, (uint64_t)s->build_time);
	le32_put(p + EROFS_SB_BUILD_TIME_NSEC, s->build_time_nsec);
	le32_put(p + EROFS_SB_BLOCKS, s->blocks);
	le32_put(p + EROFS_SB_META_BLKADDR, s->meta_blkaddr);
	le32_put(p + EROFS_SB_XATTR_BLKADDR, s->xattr_blkaddr);
	memcpy(p + EROFS_SB_UUID, s->uuid, 16);
	memcpy(p + EROFS_SB_VOLUME_NAME, s->volume_name, strnlen(s->volume_name, 16));
	le32_put(p + EROFS_SB_FEATURE_INCOMPAT, s->feature_incompat);
}

uint32_t erofs_super_checksum(const uint8_t *blk, size_t bs)
{
	uint8_t zero[4] = { 0 };
	uint32_t crc = ~0u;
	const uint8_t *sb = blk + EROFS_SB_OFFSET;

	crc = crc32c_le(crc, sb, EROFS_SB_CHECKSUM);
	crc = crc32c_le(crc, zero, sizeof(zero));
	return crc32c_le(crc, sb + EROFS_SB_CHECKSUM + 4,
			 bs - EROFS_SB_OFFSET - EROFS_SB_CHECKSUM - 4);
}

int erofs_super_decode(const uint8_t p[EROFS_SB_SIZE], struct diag *d, struct erofs_super *ret)
{
	struct erofs_super s = { 0 };

	if (le32_get(p + EROFS_SB_MAGIC) != EROFS_MAGIC)
		return -ENOENT;
	s.feature_compat = le32_get(p + EROFS_SB_FEATURE_COMPAT);
	s.feature_incompat = le32_get(p + EROFS_SB_FEATURE_INCOMPAT);
	s.blkszbits = p[EROFS_SB_BLKSZBITS];
	s.root_nid = le16_get(p + EROFS_SB_ROOT_NID);
	s.inos = le64_get(p + EROFS_SB_INOS);
	s.build_time = (int64_t)le64_get(p + EROFS_SB_BUILD_TIME);
	s.build_time_nsec = le32_get(p + EROFS_SB_BUILD_TIME_NSEC);
	s.blocks = le32_get(p + EROFS_SB_BLOCKS);
	s.meta_blkaddr = le32_get(p + EROFS_SB_META_BLKADDR);
	s.xattr_blkaddr = le32_get(p + EROFS_SB_XATTR_BLKADDR);
	memcpy(s.uuid, p + EROFS_SB_UUID, 16);
	memcpy(s.volume_name, p + EROFS_SB_VOLUME_NAME, 16);
	s.volume_name[16] = '\0';
	/* the kernel takes 512 B to 64 KiB blocks (a block holds the superblock: >= 9 bits) */
	if (s.blkszbits < 9 || s.blkszbits > 16)
		return diag_fail(d, -EBADMSG, "erofs superblock: blkszbits %u is not 9 to 16",
				 s.blkszbits);
	if (s.blocks == 0)
		return diag_fail(d, -EBADMSG, "erofs superblock: blocks is 0");
	if (s.meta_blkaddr >= s.blocks)
		return diag_fail(d, -EBADMSG, "erofs superblock: meta_blkaddr %u is past the %u "
				 "blocks", s.meta_blkaddr, s.blocks);
	if (s.build_time_nsec >= 1000000000u)
		return diag_fail(d, -EBADMSG, "erofs superblock: build_time_nsec %u is not under "
				 "one second", s.build_time_nsec);
	*ret = s;
	return 0;
}
