/* erofs inodes: struct erofs_inode_compact (32 bytes) and struct erofs_inode_extended (64
 * bytes), Linux fs/erofs/erofs_fs.h. i_format: bit 0 the version (extended), bits 1-3 the
 * data layout. A compact inode has no mtime (the kernel gives it the build time), 16-bit
 * owners and nlink, a 32-bit size. */
#include "fs/erofs/erofs.h"

#include <string.h>

#include "util/endian.h"

enum {
	ICOMPACT_FORMAT = 0,
	ICOMPACT_XATTR_ICOUNT = 2,
	ICOMPACT_MODE = 4,
	ICOMPACT_NLINK = 6,
	ICOMPACT_SIZE = 8,
	ICOMPACT_U = 16,
	ICOMPACT_INO = 20,
	ICOMPACT_UID = 24,
	ICOMPACT_GID = 26,

	IEXT_FORMAT = 0,
	IEXT_XATTR_ICOUNT = 2,
	IEXT_MODE = 4,
	IEXT_SIZE = 8, /* le64 */
	IEXT_U = 16,
	IEXT_INO = 20,
	IEXT_UID = 24,
	IEXT_GID = 28,
	IEXT_MTIME = 32, /* le64 */
	IEXT_MTIME_NSEC = 40,
	IEXT_NLINK = 44,
};

bool erofs_inode_needs_extended(const struct erofs_inode *i, int64_t build_time,
				uint32_t build_time_nsec)
{
	return i->uid > UINT16_MAX || i->gid > UINT16_MAX || i->nlink > UINT16_MAX ||
	       i->size > UINT32_MAX || i->mtime != build_time ||
	       i->mtime_nsec != build_time_nsec;
}

size_t erofs_inode_encode(uint8_t *p, const struct erofs_inode *i)
{
	uint16_t format = (uint16_t)((i->extended ? 1 : 0) | (i->layout << 1));

	if (!i->extended) {
		memset(p, 0, EROFS_INODE_COMPACT_SIZE);
		le16_put(p + ICOMPACT_FORMAT, format);
		le16_put(p + ICOMPACT_XATTR_ICOUNT, i->xattr_icount);
		le16_put(p + ICOMPACT_MODE, (uint16_t)i->mode);
		le16_put(p + ICOMPACT_NLINK, (uint16_t)i->nlink);
		le32_put(p + ICOMPACT_SIZE, (uint32_t)i->size);
		le32_put(p + ICOMPACT_U, i->u);
		le32_put(p + ICOMPACT_INO, i->ino);
		le16_put(p + ICOMPACT_UID, (uint16_t)i->uid);
		le16_put(p + ICOMPACT_GID, (uint16_t)i->gid);
		return EROFS_INODE_COMPACT_SIZE;
	}
	memset(p, 0, EROFS_INODE_EXTENDED_SIZE);
	le16_put(p + IEXT_FORMAT, format);
	le16_put(p + IEXT_XATTR_ICOUNT, i->xattr_icount);
	le16_put(p + IEXT_MODE, (uint16_t)i->mode);
	le64_put(p + IEXT_SIZE, i->size);
	le32_put(p + IEXT_U, i->u);
	le32_put(p + IEXT_INO, i->ino);
	le32_put(p + IEXT_UID, i->uid);
	le32_put(p + IEXT_GID, i->gid);
	le64_put(p + IEXT_MTIME, (uint64_t)i->mtime);
	le32_put(p + IEXT_MTIME_NSEC, i->mtime_nsec);
	le32_put(p + IEXT_NLINK, i->nlink);
	return EROFS_INODE_EXTENDED_SIZE;
}

uint32_t erofs_encode_dev(uint32_t major, uint32_t minor)
{
	return (minor & 0xffu) | (major << 8) | ((minor & ~0xffu) << 12);
}
