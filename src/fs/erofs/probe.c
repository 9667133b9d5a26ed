/* Recognising erofs (inspect): the superblock at byte 1024, checked field by field, and its
 * CRC-32C when the image says it has one. The input is hostile: one block is read at most. */
#include "fs/erofs/probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/erofs/erofs.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

int erofs_probe(int (*read)(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d),
		void *ctx, uint64_t size, struct diag *d, struct erofs_super *ret)
{
	uint8_t sb[EROFS_SB_SIZE];
	struct erofs_super s;
	uint64_t bs;
	int r;

	if (size < EROFS_SB_OFFSET + EROFS_SB_SIZE)
		return 0;
	r = read(ctx, EROFS_SB_OFFSET, sb, sizeof(sb), d);
	if (r < 0)
		return diag_prepend(d, r, "cannot read the erofs superblock at byte %u",
				    EROFS_SB_OFFSET);
	r = erofs_super_decode(sb, d, &s);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	bs = 1ull << s.blkszbits;
	if (bs < EROFS_SB_OFFSET + EROFS_SB_SIZE)
		return diag_fail(d, -EBADMSG, "erofs superblock: %llu-byte blocks cannot hold the "
				 "superblock at byte %u", (unsigned long long)bs, EROFS_SB_OFFSET);
	if ((uint64_t)s.blocks * bs > size)
		return diag_fail(d, -EBADMSG, "erofs superblock: %u blocks of %llu bytes run past "
				 "the partition's %llu bytes", s.blocks, (unsigned long long)bs,
				 (unsigned long long)size);
	if (s.feature_compat & EROFS_FEATURE_COMPAT_SB_CHKSUM) {
		uint8_t *blk = xmalloc(bs);
		uint32_t want = le32_get(sb + EROFS_SB_CHECKSUM), got;

		r = read(ctx, 0, blk, bs, d);
		if (r < 0) {
			free(blk);
			return diag_prepend(d, r, "cannot read the erofs superblock's block");
		}
		got = erofs_super_checksum(blk, bs);
		free(blk);
		if (got != want)
			return diag_fail(d, -EBADMSG, "erofs superblock: checksum 0x%08x, the block "
					 "sums to 0x%08x", want, got);
	}
	*ret = s;
	return 1;
}
